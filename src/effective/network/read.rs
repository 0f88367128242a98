//! The NetworkPolicies a deployment has: the chart's, from its values, and those in manifests.

use serde_json::{Map, Value, json};

use super::{METADATA_V6, Network, PRIVATE_V4, Peer, Port, Range, Ranges, Rule};
use crate::effective::origin::Origin;
use crate::effective::spawner::scalar_text;
use crate::values;

/// A manifest document passed beside the values.
pub struct ManifestDoc<'a> {
    pub file: &'a str,
    pub index: usize,
    pub doc: &'a Value,
}

/// The effective network of a user pod with `labels`.
pub fn network(v: &Value, labels: &Map<String, Value>, manifests: &[ManifestDoc]) -> Network {
    let np = ["singleuser", "networkPolicy"];
    let enabled_path = ["singleuser", "networkPolicy", "enabled"];
    let enabled = go_truthy(values::get(v, &enabled_path));
    let mut rules = Vec::new();
    let mut isolated = false;
    if enabled {
        isolated = true;
        rules.extend(chart_rules(v, &np));
    }
    let mut foreign = Vec::new();
    let mut denied = Vec::new();
    let meta = metadata_ranges(v);
    for m in manifests {
        let kind = m.doc.get("kind").and_then(Value::as_str).unwrap_or("");
        let api = m
            .doc
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let origin = Origin::Manifest {
            file: m.file.to_string(),
            index: m.index,
            path: Vec::new(),
        };
        if kind == "NetworkPolicy" && api == "networking.k8s.io/v1" {
            let spec = m.doc.get("spec").cloned().unwrap_or(json!({}));
            if !selects(spec.get("podSelector"), labels) || !egress_type(&spec) {
                continue;
            }
            isolated = true;
            if let Some(Value::Array(eg)) = spec.get("egress") {
                for (i, r) in eg.iter().enumerate() {
                    rules.push(rule(r, origin.child(&["spec", "egress", &i.to_string()])));
                }
            }
        } else if crate::effective::cilium::is_cilium_policy(m.doc) {
            let read = crate::effective::cilium::read(m.doc, labels, &origin, &meta);
            if let Some(o) = read.unreadable {
                foreign.push(o);
            }
            isolated |= read.isolates;
            rules.extend(read.rules);
            denied.extend(read.denied);
        } else if kind.contains("NetworkPolicy")
            || api.contains("cilium.io")
            || api.contains("projectcalico.org")
        {
            foreign.push(origin);
        }
    }
    // Cilium's denies win over every allow, Kubernetes' included.
    if !denied.is_empty() {
        for r in &mut rules {
            for p in r.peers.iter_mut().flatten() {
                if let Peer::Addresses(a) = p {
                    *a = a.minus(&denied);
                }
            }
            if r.peers.is_none() {
                r.peers = Some(vec![Peer::Addresses(
                    Ranges::of(&["0.0.0.0/0", "::/0"]).minus(&denied),
                )]);
                // Pods and names beyond the denied ranges stay reachable:
                // only addresses can be cut, so the rest is kept as is.
                r.peers
                    .as_mut()
                    .into_iter()
                    .for_each(|p| p.push(Peer::Pods("every pod".into())));
            }
        }
    }
    Network {
        isolated,
        rules,
        open_because: Origin::values(&enabled_path),
        foreign,
    }
}

/// Which manifests select user pods with `labels` as NetworkPolicies: the
/// only part of [`network`] that depends on the labels, so pods with the
/// same selection see the same network.
pub fn selection(labels: &Map<String, Value>, manifests: &[ManifestDoc]) -> Vec<bool> {
    manifests
        .iter()
        .map(|m| {
            if crate::effective::cilium::is_cilium_policy(m.doc) {
                return crate::effective::cilium::read(
                    m.doc,
                    labels,
                    &Origin::default(""),
                    &Ranges::default(),
                )
                .selects;
            }
            m.doc.get("kind").and_then(Value::as_str) == Some("NetworkPolicy")
                && m.doc.get("apiVersion").and_then(Value::as_str) == Some("networking.k8s.io/v1")
                && selects(m.doc.get("spec").and_then(|s| s.get("podSelector")), labels)
        })
        .collect()
}

/// Go template truth (`{{ if x }}`): false, 0, "", nil and empty
/// collections are false.
pub fn go_truthy(v: Option<&Value>) -> bool {
    crate::effective::spawner::truthy(v)
}

fn egress_type(spec: &Value) -> bool {
    match spec.get("policyTypes").and_then(Value::as_array) {
        Some(types) => types.iter().any(|t| t == "Egress"),
        // Without policyTypes, a policy with an egress section restricts egress.
        None => spec.get("egress").is_some(),
    }
}

/// Labels whose values depend on the release; a selector on them is taken
/// to match.
const RELEASE_LABELS: &[&str] = &[
    "release",
    "app.kubernetes.io/instance",
    "heritage",
    "chart",
    "helm.sh/chart",
];

/// Does a label selector pick a pod with `labels`?
pub fn selects(sel: Option<&Value>, labels: &Map<String, Value>) -> bool {
    let Some(sel) = sel else {
        return true;
    };
    let has = |k: &str| labels.contains_key(k) || RELEASE_LABELS.contains(&k);
    let value_is = |k: &str, v: &Value| {
        RELEASE_LABELS.contains(&k) || labels.get(k).map(scalar_text) == Some(scalar_text(v))
    };
    if let Some(Value::Object(ml)) = sel.get("matchLabels")
        && !ml.iter().all(|(k, v)| value_is(k, v))
    {
        return false;
    }
    if let Some(Value::Array(exprs)) = sel.get("matchExpressions") {
        for e in exprs {
            let key = e.get("key").and_then(Value::as_str).unwrap_or("");
            let vals: Vec<String> = e
                .get("values")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(scalar_text).collect())
                .unwrap_or_default();
            let cur = labels.get(key).map(scalar_text);
            let ok = match e.get("operator").and_then(Value::as_str).unwrap_or("") {
                _ if RELEASE_LABELS.contains(&key) => true,
                "In" => cur.is_some_and(|c| vals.contains(&c)),
                "NotIn" => cur.is_none_or(|c| !vals.contains(&c)),
                "Exists" => has(key),
                "DoesNotExist" => !has(key),
                _ => true,
            };
            if !ok {
                return false;
            }
        }
    }
    true
}

/// A NetworkPolicy egress rule.
fn rule(r: &Value, origin: Origin) -> Rule {
    let ports = r.get("ports").and_then(Value::as_array).and_then(|ps| {
        if ps.is_empty() {
            return None;
        }
        Some(ps.iter().map(port).collect())
    });
    let peers = r.get("to").and_then(Value::as_array).and_then(|ts| {
        if ts.is_empty() {
            return None;
        }
        Some(ts.iter().map(peer).collect())
    });
    Rule {
        ports,
        peers,
        origin,
    }
}

fn port(p: &Value) -> Port {
    let protocol = p
        .get("protocol")
        .and_then(Value::as_str)
        .unwrap_or("TCP")
        .to_string();
    match p.get("port") {
        None | Some(Value::Null) => Port::AllOf { protocol },
        Some(Value::String(s)) => match s.parse::<u32>() {
            Ok(n) => Port::Range {
                protocol,
                from: n,
                to: n,
            },
            Err(_) => Port::Named {
                protocol,
                name: s.clone(),
            },
        },
        Some(n) => {
            let from = n.as_u64().unwrap_or(0) as u32;
            let to = p
                .get("endPort")
                .and_then(Value::as_u64)
                .map_or(from, |e| e as u32);
            Port::Range { protocol, from, to }
        }
    }
}

fn peer(t: &Value) -> Peer {
    if let Some(b) = t.get("ipBlock") {
        let cidr = b.get("cidr").map(scalar_text).unwrap_or_default();
        let except: Vec<Range> = b
            .get("except")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| Range::parse(&scalar_text(e)))
            .collect();
        let base = Range::parse(&cidr)
            .map(|r| Ranges(vec![r]))
            .unwrap_or_default();
        return Peer::Addresses(base.minus(&except));
    }
    let mut what = Vec::new();
    if t.get("namespaceSelector").is_some() {
        what.push(format!("namespaces {}", t["namespaceSelector"]));
    }
    if t.get("podSelector").is_some() {
        what.push(format!("pods {}", t["podSelector"]));
    }
    Peer::Pods(what.join(" / "))
}

/// The metadata server's addresses: the values' IPv4 one and the IPv6 one.
fn metadata_ranges(v: &Value) -> Ranges {
    let ip = values::get(v, &["singleuser", "cloudMetadata", "ip"])
        .map(scalar_text)
        .unwrap_or_default();
    let mut r: Vec<Range> = Range::parse(&format!("{ip}/32")).into_iter().collect();
    r.extend(Range::parse(METADATA_V6));
    Ranges(r)
}

/// The chart's user NetworkPolicy egress rules, as its template renders
/// them from values.
fn chart_rules(v: &Value, np: &[&str]) -> Vec<Rule> {
    let path = |more: &[&str]| -> Vec<String> {
        np.iter()
            .chain(more.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let flag = |name: &str| {
        let p = path(&["egressAllowRules", name]);
        let refs: Vec<&str> = p.iter().map(String::as_str).collect();
        (go_truthy(values::get(v, &refs)), Origin::values(&p))
    };
    let ip = values::get(v, &["singleuser", "cloudMetadata", "ip"])
        .map(scalar_text)
        .unwrap_or_default();
    let meta = Ranges(Range::parse(&format!("{ip}/32")).into_iter().collect());
    let mut rules = vec![
        Rule {
            ports: Some(vec![Port::Range {
                protocol: "TCP".into(),
                from: 8081,
                to: 8081,
            }]),
            peers: Some(vec![Peer::Pods("the hub pod".into())]),
            origin: Origin::values(&path(&["enabled"])),
        },
        Rule {
            ports: Some(vec![Port::Range {
                protocol: "TCP".into(),
                from: 8000,
                to: 8000,
            }]),
            peers: Some(vec![Peer::Pods("the proxy pod".into())]),
            origin: Origin::values(&path(&["enabled"])),
        },
        Rule {
            ports: Some(vec![
                Port::Range {
                    protocol: "TCP".into(),
                    from: 8080,
                    to: 8080,
                },
                Port::Range {
                    protocol: "TCP".into(),
                    from: 8443,
                    to: 8443,
                },
            ]),
            peers: Some(vec![Peer::Pods("the autohttps pod".into())]),
            origin: Origin::values(&path(&["enabled"])),
        },
    ];
    let (dns_meta, o1) = flag("dnsPortsCloudMetadataServer");
    let (dns_ks, o2) = flag("dnsPortsKubeSystemNamespace");
    let (dns_priv, o3) = flag("dnsPortsPrivateIPs");
    if dns_meta || dns_ks || dns_priv {
        let mut peers = Vec::new();
        let mut origin = o1.clone();
        if dns_meta {
            peers.push(Peer::Addresses(meta.clone()));
        }
        if dns_ks {
            peers.push(Peer::Pods("kube-system namespace".into()));
            if !dns_meta {
                origin = o2.clone();
            }
        }
        if dns_priv {
            peers.push(Peer::Addresses(Ranges::of(PRIVATE_V4)));
            if !dns_meta && !dns_ks {
                origin = o3.clone();
            }
        }
        rules.push(Rule {
            ports: Some(vec![
                Port::Range {
                    protocol: "UDP".into(),
                    from: 53,
                    to: 53,
                },
                Port::Range {
                    protocol: "TCP".into(),
                    from: 53,
                    to: 53,
                },
            ]),
            peers: Some(peers),
            origin,
        });
    }
    let (non_private, o) = flag("nonPrivateIPs");
    if non_private {
        let mut cut = Ranges::of(PRIVATE_V4).0;
        cut.extend(meta.0.iter().copied());
        rules.push(Rule {
            ports: None,
            peers: Some(vec![Peer::Addresses(
                Ranges::of(&["0.0.0.0/0"]).minus(&cut),
            )]),
            origin: o,
        });
    }
    let (private, o) = flag("privateIPs");
    if private {
        rules.push(Rule {
            ports: None,
            peers: Some(vec![Peer::Addresses(Ranges::of(PRIVATE_V4))]),
            origin: o,
        });
    }
    let (cms, o) = flag("cloudMetadataServer");
    if cms {
        rules.push(Rule {
            ports: None,
            peers: Some(vec![Peer::Addresses(meta.clone())]),
            origin: o,
        });
    }
    let eg = path(&["egress"]);
    let refs: Vec<&str> = eg.iter().map(String::as_str).collect();
    if let Some(Value::Array(list)) = values::get(v, &refs) {
        for (i, r) in list.iter().enumerate() {
            rules.push(rule(r, Origin::values(&eg).child(&[i.to_string()])));
        }
    }
    rules
}

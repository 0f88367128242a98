//! Cilium's policy kinds (`CiliumNetworkPolicy`, `CiliumClusterwideNetworkPolicy`)
//! read as egress rules of the same shape as a Kubernetes NetworkPolicy's.
//!
//! Cilium enforces both kinds together: every allow rule of every policy
//! that selects an endpoint adds up, Kubernetes' included; a policy with
//! egress rules switches egress to default-deny (unless it says
//! `enableDefaultDeny.egress: false`); `egressDeny` wins over any allow.
//! Host names (`toFQDNs`) open only the addresses DNS returned for them, as
//! Cilium's DNS proxy saw: reach to "named hosts", not to an address range.
//! What this module cannot interpret makes the policy unreadable, so no
//! verdict that depends on it is taken to hold.

use serde_json::{Map, Value};

use super::network::{Peer, Port, Range, Ranges, Rule, selects};
use super::origin::Origin;
use super::spawner::scalar_text;

/// Host names of cloud metadata services: a name or pattern that matches
/// one reaches the metadata server by name.
pub const METADATA_NAMES: &[&str] = &[
    "metadata.google.internal",
    "metadata.goog",
    "instance-data.ec2.internal",
];

/// Whether a document is one of Cilium's network policy kinds.
pub fn is_cilium_policy(doc: &Value) -> bool {
    let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    api.starts_with("cilium.io/")
        && matches!(
            kind,
            "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy"
        )
}

/// What a Cilium policy means for user pods with some labels.
#[derive(Debug, Default)]
pub struct Read {
    /// Some rule of it selects the pods.
    pub selects: bool,
    /// It switches their egress to default-deny.
    pub isolates: bool,
    pub rules: Vec<Rule>,
    /// Addresses denied on every port (`egressDeny` without `toPorts`).
    pub denied: Vec<Range>,
    /// The first part it could not interpret, if any.
    pub unreadable: Option<Origin>,
}

/// The rules of a Cilium policy (`spec`, or each of `specs`) for pods with
/// `labels`; `metadata` is the metadata server's addresses.
pub fn read(doc: &Value, labels: &Map<String, Value>, origin: &Origin, metadata: &Ranges) -> Read {
    let mut out = Read::default();
    let mut specs: Vec<(Vec<String>, &Value)> = Vec::new();
    if let Some(s) = doc.get("spec") {
        specs.push((vec!["spec".into()], s));
    }
    if let Some(Value::Array(list)) = doc.get("specs") {
        for (i, s) in list.iter().enumerate() {
            specs.push((vec!["specs".into(), i.to_string()], s));
        }
    }
    for (at, spec) in specs {
        // A node selector makes it a host policy: it governs nodes, not pods.
        if spec.get("nodeSelector").is_some()
            || !selects(
                Some(&endpoint_selector(spec.get("endpointSelector"))),
                labels,
            )
        {
            continue;
        }
        out.selects = true;
        let here = origin.child(&at);
        let has = |k: &str| {
            spec.get(k)
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        };
        let default_deny = spec.pointer("/enableDefaultDeny/egress") != Some(&Value::Bool(false));
        out.isolates |= default_deny && (has("egress") || has("egressDeny"));
        for (i, r) in spec
            .get("egress")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = here.child(&["egress".to_string(), i.to_string()]);
            match egress_rule(r, &at, metadata) {
                Ok(rules) => out.rules.extend(rules),
                Err(o) => {
                    out.unreadable.get_or_insert(o);
                }
            }
        }
        for (i, r) in spec
            .get("egressDeny")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = here.child(&["egressDeny".to_string(), i.to_string()]);
            // A deny limited to some ports only takes reach away; leaving
            // it out can make a verdict weaker, never wrongly hold.
            if r.get("toPorts").is_some() {
                continue;
            }
            if let Ok(rules) = egress_rule(r, &at, metadata) {
                for rule in rules {
                    for p in rule.peers.into_iter().flatten() {
                        if let Peer::Addresses(a) = p {
                            out.denied.extend(a.0);
                        }
                    }
                }
            }
        }
    }
    out
}

/// Cilium writes label keys with a source prefix (`k8s:`, `any:`); its
/// namespace labels depend on where the policy lives, and are taken to
/// match, as release labels are.
fn endpoint_selector(sel: Option<&Value>) -> Value {
    let Some(Value::Object(sel)) = sel else {
        return Value::Object(Map::new());
    };
    let key = |k: &str| -> Option<String> {
        let k = k
            .strip_prefix("k8s:")
            .or_else(|| k.strip_prefix("any:"))
            .unwrap_or(k);
        (!k.starts_with("io.kubernetes.pod.namespace") && !k.starts_with("io.cilium.k8s."))
            .then(|| k.to_string())
    };
    let mut out = Map::new();
    if let Some(Value::Object(ml)) = sel.get("matchLabels") {
        let ml: Map<String, Value> = ml
            .iter()
            .filter_map(|(k, v)| key(k).map(|k| (k, v.clone())))
            .collect();
        out.insert("matchLabels".into(), Value::Object(ml));
    }
    if let Some(Value::Array(ex)) = sel.get("matchExpressions") {
        let ex: Vec<Value> = ex
            .iter()
            .filter_map(|e| {
                let k = key(e.get("key").and_then(Value::as_str).unwrap_or(""))?;
                let mut e = e.clone();
                e["key"] = Value::String(k);
                Some(e)
            })
            .collect();
        out.insert("matchExpressions".into(), Value::Array(ex));
    }
    Value::Object(out)
}

/// One Cilium egress rule as rules with one destination each (cited at the
/// selector that names it). `Err` cites what cannot be interpreted.
fn egress_rule(r: &Value, at: &Origin, metadata: &Ranges) -> Result<Vec<Rule>, Origin> {
    let ports = match r.get("toPorts") {
        None => None,
        Some(tp) => Some(to_ports(tp).ok_or_else(|| at.child(&["toPorts"]))?),
    };
    let mut peers: Vec<(Vec<Peer>, Origin)> = Vec::new();
    let mut l3 = false;
    let Some(obj) = r.as_object() else {
        return Err(at.clone());
    };
    for (k, v) in obj {
        let list = || v.as_array().map(Vec::as_slice).unwrap_or_default();
        let item = |i: usize| at.child(&[k.clone(), i.to_string()]);
        match k.as_str() {
            "toPorts" | "icmps" | "authentication" => {}
            "toCIDR" => {
                for (i, c) in list().iter().enumerate() {
                    let range = Range::parse(&scalar_text(c)).ok_or_else(|| item(i))?;
                    peers.push((vec![Peer::Addresses(Ranges(vec![range]))], item(i)));
                }
                l3 |= !list().is_empty();
            }
            "toCIDRSet" => {
                for (i, c) in list().iter().enumerate() {
                    let cidr = c.get("cidr").map(scalar_text).unwrap_or_default();
                    let range = Range::parse(&cidr).ok_or_else(|| item(i))?;
                    let except = c
                        .get("except")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .map(|e| Range::parse(&scalar_text(e)).ok_or_else(|| item(i)))
                        .collect::<Result<Vec<_>, _>>()?;
                    peers.push((
                        vec![Peer::Addresses(Ranges(vec![range]).minus(&except))],
                        item(i),
                    ));
                }
                l3 |= !list().is_empty();
            }
            "toEntities" => {
                for (i, e) in list().iter().enumerate() {
                    let peer = match scalar_text(e).as_str() {
                        // Everything outside the cluster: private networks
                        // beyond it and the metadata server included.
                        "world" => Some(Ranges::of(&["0.0.0.0/0", "::/0"])),
                        "world-ipv4" => Some(Ranges::of(&["0.0.0.0/0"])),
                        "world-ipv6" => Some(Ranges::of(&["::/0"])),
                        "all" => Some(Ranges::of(&["0.0.0.0/0", "::/0"])),
                        e @ ("cluster" | "host" | "remote-node" | "kube-apiserver" | "health"
                        | "init" | "ingress" | "unmanaged") => {
                            peers.push((vec![Peer::Pods(format!("Cilium entity `{e}`"))], item(i)));
                            None
                        }
                        _ => return Err(item(i)),
                    };
                    if let Some(p) = peer {
                        peers.push((vec![Peer::Addresses(p)], item(i)));
                    }
                }
                l3 |= !list().is_empty();
            }
            "toEndpoints" => {
                for (i, s) in list().iter().enumerate() {
                    peers.push((vec![Peer::Pods(format!("endpoints {s}"))], item(i)));
                }
                l3 |= !list().is_empty();
            }
            "toFQDNs" => {
                for (i, s) in list().iter().enumerate() {
                    let name = s.get("matchName").map(scalar_text);
                    let pattern = s.get("matchPattern").map(scalar_text);
                    let text = name.clone().or(pattern.clone()).ok_or_else(|| item(i))?;
                    let mut p = vec![Peer::Names(vec![text.to_lowercase()])];
                    if pattern.as_deref().is_some_and(|p| p == "*" || p == "**") {
                        // Every name: whatever any DNS answer points at.
                        p.push(Peer::Addresses(Ranges::of(&["0.0.0.0/0", "::/0"])));
                    } else if METADATA_NAMES
                        .iter()
                        .any(|m| name_matches(&text.to_lowercase(), m))
                    {
                        p.push(Peer::Addresses(metadata.clone()));
                    }
                    peers.push((p, item(i)));
                }
                l3 |= !list().is_empty();
            }
            _ => return Err(at.child(std::slice::from_ref(k))),
        }
    }
    if !l3 {
        // Ports alone open them to every destination; a rule with neither
        // allows nothing (Cilium's way of asking for default-deny).
        return Ok(match ports {
            Some(p) => vec![Rule {
                ports: Some(p),
                peers: None,
                origin: at.clone(),
            }],
            None => Vec::new(),
        });
    }
    Ok(peers
        .into_iter()
        .map(|(peers, origin)| Rule {
            ports: ports.clone(),
            peers: Some(peers),
            origin,
        })
        .collect())
}

/// `toPorts` as ports; `None` when a port cannot be read.
fn to_ports(tp: &Value) -> Option<Vec<Port>> {
    let mut out = Vec::new();
    for entry in tp.as_array()? {
        for p in entry.get("ports").and_then(Value::as_array)? {
            let protocol = p
                .get("protocol")
                .map(scalar_text)
                .unwrap_or_else(|| "ANY".into());
            let protocols: &[&str] = match protocol.as_str() {
                "ANY" => &["TCP", "UDP", "SCTP"],
                "TCP" => &["TCP"],
                "UDP" => &["UDP"],
                "SCTP" => &["SCTP"],
                "ICMP" | "ICMPv6" => &[],
                _ => return None,
            };
            let text = p.get("port").map(scalar_text).unwrap_or_else(|| "0".into());
            for proto in protocols {
                let protocol = proto.to_string();
                out.push(match text.parse::<u32>() {
                    Ok(0) => Port::AllOf { protocol },
                    Ok(from) => Port::Range {
                        protocol,
                        from,
                        to: p
                            .get("endPort")
                            .and_then(Value::as_u64)
                            .map_or(from, |e| e as u32),
                    },
                    Err(_) => Port::Named {
                        protocol,
                        name: text.clone(),
                    },
                });
            }
        }
    }
    Some(out)
}

/// Whether a name or Cilium pattern matches `name`: `*` is any run of
/// characters within one label; a leading `**.` is one or more labels.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    if let Some(rest) = pattern.strip_prefix("**.") {
        return name
            .split_once('.')
            .is_some_and(|(_, tail)| name_matches(rest, tail) || name_matches(pattern, tail));
    }
    let (p, n): (Vec<&str>, Vec<&str>) = (pattern.split('.').collect(), name.split('.').collect());
    if pattern == "*" {
        return true;
    }
    p.len() == n.len() && p.iter().zip(&n).all(|(p, n)| label_matches(p, n))
}

fn label_matches(p: &str, n: &str) -> bool {
    match p.split_once('*') {
        None => p == n,
        Some((head, tail)) => {
            n.starts_with(head)
                && (head.len()..=n.len())
                    .any(|i| n.is_char_boundary(i) && label_matches(tail, &n[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::network::Network;
    use super::*;
    use serde_json::json;

    fn labels() -> Map<String, Value> {
        json!({"component": "singleuser-server", "app": "jupyterhub", "release": "jhub"})
            .as_object()
            .unwrap()
            .clone()
    }

    fn origin() -> Origin {
        Origin::Manifest {
            file: "cnp.yaml".into(),
            index: 0,
            path: Vec::new(),
        }
    }

    fn meta() -> Ranges {
        Ranges::of(&["169.254.169.254"])
    }

    fn cnp(egress: Value) -> Value {
        json!({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
            "metadata": {"name": "x"},
            "spec": {"endpointSelector": {"matchLabels": {"k8s:component": "singleuser-server",
                "k8s:io.kubernetes.pod.namespace": "jhub"}}, "egress": egress}})
    }

    #[test]
    fn names_reach_named_hosts_not_addresses() {
        let doc = cnp(json!([{"toFQDNs": [{"matchName": "pypi.org"}],
            "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]}]));
        let r = read(&doc, &labels(), &origin(), &meta());
        assert!(r.selects && r.isolates && r.unreadable.is_none());
        assert_eq!(r.rules.len(), 1);
        assert_eq!(
            r.rules[0].peers,
            Some(vec![Peer::Names(vec!["pypi.org".into()])])
        );
        assert_eq!(
            r.rules[0].origin,
            origin().child(&["spec", "egress", "0", "toFQDNs", "0"])
        );
        assert!(r.rules[0].ports.as_ref().unwrap()[0].matches("TCP", 443));
    }

    #[test]
    fn every_name_and_metadata_names_reach_addresses() {
        let doc = cnp(
            json!([{"toFQDNs": [{"matchPattern": "*"}, {"matchName": "metadata.google.internal"}]}]),
        );
        let r = read(&doc, &labels(), &origin(), &meta());
        let addrs = |i: usize| {
            r.rules[i]
                .peers
                .iter()
                .flatten()
                .any(|p| matches!(p, Peer::Addresses(a) if a.overlaps(&meta())))
        };
        assert!(addrs(0) && addrs(1));
    }

    #[test]
    fn world_is_every_address_and_ports_alone_every_destination() {
        let doc =
            cnp(json!([{"toEntities": ["world"]}, {"toPorts": [{"ports": [{"port": "22"}]}]}, {}]));
        let r = read(&doc, &labels(), &origin(), &meta());
        assert_eq!(r.rules.len(), 2);
        assert!(r.rules[0].ports.is_none());
        assert!(
            matches!(&r.rules[0].peers, Some(p) if matches!(&p[0], Peer::Addresses(a) if a.overlaps(Network::public()) && a.overlaps(&meta())))
        );
        assert!(r.rules[1].peers.is_none());
        let ps = r.rules[1].ports.as_ref().unwrap();
        assert!(ps.iter().any(|p| p.matches("TCP", 22)) && ps.iter().any(|p| p.matches("UDP", 22)));
    }

    #[test]
    fn cidr_sets_keep_their_except_and_denies_are_collected() {
        let mut doc =
            cnp(json!([{"toCIDRSet": [{"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}]}]));
        doc["spec"]["egressDeny"] = json!([{"toCIDR": ["10.0.0.0/8"]}, {"toCIDR": ["11.0.0.0/8"], "toPorts": [{"ports": [{"port": "22"}]}]}]);
        let r = read(&doc, &labels(), &origin(), &meta());
        assert!(
            matches!(&r.rules[0].peers, Some(p) if matches!(&p[0], Peer::Addresses(a) if !a.overlaps(&meta())))
        );
        assert_eq!(r.denied, Ranges::of(&["10.0.0.0/8"]).0);
    }

    #[test]
    fn what_it_cannot_read_is_unreadable_and_other_pods_are_not_selected() {
        let doc = cnp(json!([{"toServices": [{"k8sService": {"serviceName": "x"}}]}]));
        let r = read(&doc, &labels(), &origin(), &meta());
        assert_eq!(
            r.unreadable,
            Some(origin().child(&["spec", "egress", "0", "toServices"]))
        );
        let mut other = cnp(json!([{"toEntities": ["world"]}]));
        other["spec"]["endpointSelector"] = json!({"matchLabels": {"component": "hub"}});
        assert!(!read(&other, &labels(), &origin(), &meta()).selects);
        other["spec"]["enableDefaultDeny"] = json!({"egress": false});
        other["spec"]["endpointSelector"] = json!({});
        let r = read(&other, &labels(), &origin(), &meta());
        assert!(r.selects && !r.isolates);
        let mut host = cnp(json!([{"toEntities": ["world"]}]));
        host["spec"]["nodeSelector"] = json!({});
        assert!(!read(&host, &labels(), &origin(), &meta()).selects);
    }

    #[test]
    fn patterns() {
        assert!(name_matches(
            "*.githubusercontent.com",
            "raw.githubusercontent.com"
        ));
        assert!(!name_matches(
            "*.githubusercontent.com",
            "a.b.githubusercontent.com"
        ));
        assert!(!name_matches(
            "*.githubusercontent.com",
            "githubusercontent.com"
        ));
        assert!(name_matches("**.example.com", "a.b.example.com"));
        assert!(name_matches("*", "metadata.google.internal"));
        assert!(name_matches(
            "*.google.internal",
            "metadata.google.internal"
        ));
        assert!(name_matches("meta*.goog", "metadata.goog"));
        assert!(!name_matches("pypi.org", "files.pythonhosted.org"));
    }
}

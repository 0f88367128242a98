//! Where a user pod can connect: the union of every NetworkPolicy that
//! selects it (the chart's own, rendered from values, and any passed as
//! manifests, Cilium's kinds included), evaluated as reachability per
//! address range and port.
//!
//! Kubernetes NetworkPolicies only allow: once one policy selects a pod for
//! egress, a connection is allowed when any rule of any selecting policy
//! matches it; with none, everything is allowed.

use std::net::IpAddr;
use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use super::origin::Origin;
use super::spawner::scalar_text;
use crate::values;

/// An address range `[lo, hi]` in one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Range {
    pub v6: bool,
    pub lo: u128,
    pub hi: u128,
}

impl Range {
    /// A CIDR (`10.0.0.0/8`, `fd00::/8`, or a bare address).
    pub fn parse(cidr: &str) -> Option<Range> {
        let (addr, len) = match cidr.trim().split_once('/') {
            Some((a, l)) => (a, Some(l.parse::<u32>().ok()?)),
            None => (cidr.trim(), None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let (v6, bits, n) = match ip {
            IpAddr::V4(a) => (false, 32u32, u128::from(u32::from(a))),
            IpAddr::V6(a) => (true, 128u32, u128::from(a)),
        };
        let len = len.unwrap_or(bits);
        if len > bits {
            return None;
        }
        let host_bits = bits - len;
        let mask: u128 = if host_bits == 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        Some(Range {
            v6,
            lo: n & !mask,
            hi: (n & !mask) | mask,
        })
    }

    fn overlaps(&self, o: &Range) -> bool {
        self.v6 == o.v6 && self.lo <= o.hi && o.lo <= self.hi
    }
}

/// A set of ranges (sorted, disjoint within a family).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ranges(pub Vec<Range>);

impl Ranges {
    pub fn of(cidrs: &[&str]) -> Ranges {
        Ranges(cidrs.iter().filter_map(|c| Range::parse(c)).collect())
    }

    /// `self` without `cut`.
    pub fn minus(&self, cut: &[Range]) -> Ranges {
        let mut out = self.0.clone();
        for c in cut {
            let mut next = Vec::new();
            for r in out {
                if !r.overlaps(c) {
                    next.push(r);
                    continue;
                }
                if r.lo < c.lo {
                    next.push(Range { hi: c.lo - 1, ..r });
                }
                if r.hi > c.hi {
                    next.push(Range { lo: c.hi + 1, ..r });
                }
            }
            out = next;
        }
        Ranges(out)
    }

    /// Addresses in both sets: (IPv4 count, IPv6 count).
    pub fn common(&self, other: &Ranges) -> (u128, u128) {
        let (mut v4, mut v6) = (0u128, 0u128);
        for a in &self.0 {
            for b in &other.0 {
                if a.overlaps(b) {
                    let n = a.hi.min(b.hi) - a.lo.max(b.lo);
                    let n = n.saturating_add(1);
                    if a.v6 {
                        v6 = v6.saturating_add(n);
                    } else {
                        v4 = v4.saturating_add(n);
                    }
                }
            }
        }
        (v4, v6)
    }

    pub fn overlaps(&self, other: &Ranges) -> bool {
        self.0.iter().any(|a| other.0.iter().any(|b| a.overlaps(b)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Ports of a rule: `None` protocol matches any.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Port {
    Range {
        protocol: String,
        from: u32,
        to: u32,
    },
    /// A named container port: resolves only on pods that declare it.
    Named { protocol: String, name: String },
    /// Every port of a protocol.
    AllOf { protocol: String },
}

impl Port {
    pub fn matches(&self, protocol: &str, port: u32) -> bool {
        match self {
            Port::Range {
                protocol: p,
                from,
                to,
            } => p == protocol && (*from..=*to).contains(&port),
            Port::AllOf { protocol: p } => p == protocol,
            Port::Named { .. } => false,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Port::Range { protocol, from, to } if from == to => format!("{protocol}/{from}"),
            Port::Range { protocol, from, to } => format!("{protocol}/{from}-{to}"),
            Port::Named { protocol, name } => format!("{protocol}/{name}"),
            Port::AllOf { protocol } => format!("every {protocol} port"),
        }
    }
}

/// A destination of a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Peer {
    /// Addresses (a CIDR minus its `except`).
    Addresses(Ranges),
    /// Pods chosen by labels (in-cluster, private addresses).
    Pods(String),
    /// Host names or Cilium patterns (`toFQDNs`): the addresses DNS gave
    /// for them, not an address range.
    Names(Vec<String>),
}

/// One egress rule of a policy that selects user pods.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// `None`: every port.
    pub ports: Option<Vec<Port>>,
    /// `None`: every destination.
    pub peers: Option<Vec<Peer>>,
    pub origin: Origin,
}

/// What the user pods can reach.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// At least one policy selects user pods for egress; otherwise every
    /// connection is allowed.
    pub isolated: bool,
    pub rules: Vec<Rule>,
    /// Why nothing restricts egress (when `isolated` is false).
    pub open_because: Origin,
    /// Network policies of kinds not evaluated (Calico, admin policies,
    /// Cilium rules this tool cannot interpret): they can allow or deny
    /// more, so "blocked" cannot be confirmed.
    pub foreign: Vec<Origin>,
}

/// Reach of user pods to one destination: each opening rule with the
/// ports it opens (`None`: every port).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reach {
    pub by_rule: Vec<(Option<Vec<Port>>, Origin)>,
}

impl Reach {
    pub fn all_ports(&self) -> bool {
        self.by_rule.iter().any(|(p, _)| p.is_none())
    }

    pub fn none(&self) -> bool {
        self.by_rule.is_empty()
    }

    pub fn ports(&self) -> Vec<Port> {
        self.by_rule
            .iter()
            .filter_map(|(p, _)| p.clone())
            .flatten()
            .collect()
    }

    /// The rules that open it, in order.
    pub fn opened_by(&self) -> Vec<Origin> {
        self.by_rule.iter().map(|(_, o)| o.clone()).collect()
    }

    /// Reach with the given ports taken out (e.g. DNS, or TCP/80 that the
    /// iptables init container drops); rules left with no port drop out.
    pub fn without(&self, drop: &[(&str, u32)]) -> Reach {
        let single = |p: &Port| {
            drop.iter().any(|(proto, n)| {
                matches!(p, Port::Range { protocol, from, to } if protocol == proto && from == n && to == n)
            })
        };
        Reach {
            by_rule: self
                .by_rule
                .iter()
                .filter_map(|(ports, o)| match ports {
                    None => Some((None, o.clone())),
                    Some(ps) => {
                        let left: Vec<Port> = ps.iter().filter(|p| !single(p)).cloned().collect();
                        (!left.is_empty()).then(|| (Some(left), o.clone()))
                    }
                })
                .collect(),
        }
    }

    pub fn describe(&self) -> String {
        if self.all_ports() {
            return "every port".into();
        }
        let mut p: Vec<String> = self.ports().iter().map(Port::describe).collect();
        p.sort();
        p.dedup();
        p.join(", ")
    }

    pub fn allows(&self, protocol: &str, port: u32) -> bool {
        self.all_ports() || self.ports().iter().any(|p| p.matches(protocol, port))
    }
}

/// Private IPv4 space (RFC 1918).
pub const PRIVATE_V4: &[&str] = &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
/// Space that is never "public": private, link-local, loopback, CGNAT, and
/// IPv6 unique-local and link-local.
pub const NOT_PUBLIC: &[&str] = &[
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "127.0.0.0/8",
    "100.64.0.0/10",
    "0.0.0.0/8",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
];
/// The IPv6 instance metadata endpoint.
pub const METADATA_V6: &str = "fd00:ec2::254";

impl Network {
    /// Reach to any address in `dest`.
    pub fn reach(&self, dest: &Ranges) -> Reach {
        if !self.isolated {
            return Reach {
                by_rule: vec![(None, self.open_because.clone())],
            };
        }
        reach_of(self.rules.iter(), dest)
    }

    /// Reach to a broad part of `dest`: rules whose addresses share at least
    /// `min_v4` IPv4 (or `min_v6` IPv6) addresses with it. Narrow rules (a
    /// registry, a database) are exceptions a policy lists one by one, not
    /// an opening of the address space.
    pub fn reach_broad(&self, dest: &Ranges, min_v4: u128, min_v6: u128) -> Reach {
        if !self.isolated {
            return self.reach(dest);
        }
        let broad = self.rules.iter().filter(|r| match &r.peers {
            None => true,
            Some(peers) => peers.iter().any(|p| match p {
                Peer::Addresses(a) => {
                    let (v4, v6) = a.common(dest);
                    v4 >= min_v4 || v6 >= min_v6
                }
                Peer::Pods(_) | Peer::Names(_) => false,
            }),
        });
        reach_of(broad, dest)
    }

    /// Rules that reach pods chosen by labels (other in-cluster pods).
    pub fn pod_rules(&self) -> Vec<&Rule> {
        self.rules
            .iter()
            .filter(|r| {
                r.peers.is_none()
                    || r.peers
                        .as_ref()
                        .is_some_and(|p| p.iter().any(|p| matches!(p, Peer::Pods(_))))
            })
            .collect()
    }

    /// Public addresses (IPv4 and IPv6).
    pub fn public() -> &'static Ranges {
        static PUBLIC: LazyLock<Ranges> =
            LazyLock::new(|| Ranges::of(&["0.0.0.0/0", "::/0"]).minus(&Ranges::of(NOT_PUBLIC).0));
        &PUBLIC
    }

    pub fn private() -> &'static Ranges {
        static PRIVATE: LazyLock<Ranges> = LazyLock::new(|| Ranges::of(PRIVATE_V4));
        &PRIVATE
    }
}

/// Reach of isolated pods through `rules` to any address in `dest`.
fn reach_of<'r>(rules: impl Iterator<Item = &'r Rule>, dest: &Ranges) -> Reach {
    let mut r = Reach::default();
    for rule in rules {
        // The peer that lets it through, cited at its CIDR.
        let origin = match &rule.peers {
            None => Some(rule.origin.clone()),
            Some(peers) => peers
                .iter()
                .position(|p| matches!(p, Peer::Addresses(a) if a.overlaps(dest)))
                .map(|j| match &rule.origin {
                    Origin::Values { path } if path.iter().any(|k| &**k == "egressAllowRules") => {
                        rule.origin.clone()
                    }
                    // A Cilium rule is cited at its own selector already.
                    Origin::Manifest { path, .. }
                        if path
                            .iter()
                            .rev()
                            .nth(1)
                            .is_some_and(|k| k.starts_with("to")) =>
                    {
                        rule.origin.clone()
                    }
                    o => o.child(&[
                        "to".to_string(),
                        j.to_string(),
                        "ipBlock".into(),
                        "cidr".into(),
                    ]),
                }),
        };
        let Some(origin) = origin else {
            continue;
        };
        r.by_rule.push((rule.ports.clone(), origin));
    }
    r
}

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
        } else if super::cilium::is_cilium_policy(m.doc) {
            let read = super::cilium::read(m.doc, labels, &origin, &meta);
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
            if super::cilium::is_cilium_policy(m.doc) {
                return super::cilium::read(
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
    super::spawner::truthy(v)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Map<String, Value> {
        json!({"component": "singleuser-server", "app": "jupyterhub"})
            .as_object()
            .unwrap()
            .clone()
    }

    fn chart_defaults() -> Value {
        json!({"singleuser": {"cloudMetadata": {"ip": "169.254.169.254"}, "networkPolicy": {"enabled": true, "egress": [],
            "egressAllowRules": {"cloudMetadataServer": false, "dnsPortsCloudMetadataServer": true,
              "dnsPortsKubeSystemNamespace": true, "dnsPortsPrivateIPs": true, "nonPrivateIPs": true, "privateIPs": false}}}})
    }

    fn meta() -> Ranges {
        Ranges::of(&["169.254.169.254"])
    }

    #[test]
    fn chart_defaults_reach_metadata_only_on_dns() {
        let n = network(&chart_defaults(), &labels(), &[]);
        let r = n.reach(&meta());
        assert!(!r.all_ports());
        assert_eq!(r.describe(), "TCP/53, UDP/53");
        assert!(r.without(&[("TCP", 53), ("UDP", 53)]).none());
        assert!(n.reach(Network::public()).all_ports());
        assert!(!n.reach(Network::private()).all_ports());
    }

    #[test]
    fn a_custom_rule_without_the_metadata_address_in_except_opens_it() {
        let mut v = chart_defaults();
        v["singleuser"]["networkPolicy"]["egressAllowRules"]["nonPrivateIPs"] = json!(false);
        v["singleuser"]["networkPolicy"]["egress"] = json!([{"to": [{"ipBlock": {"cidr": "0.0.0.0/0",
            "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}],
            "ports": [{"port": 80, "protocol": "TCP"}, {"port": 443, "protocol": "TCP"}]}]);
        let n = network(&v, &labels(), &[]);
        let r = n.reach(&meta()).without(&[("TCP", 53), ("UDP", 53)]);
        assert!(r.allows("TCP", 80));
        assert_eq!(
            r.opened_by(),
            vec![Origin::values(&[
                "singleuser",
                "networkPolicy",
                "egress",
                "0",
                "to",
                "0",
                "ipBlock",
                "cidr"
            ])]
        );
    }

    #[test]
    fn disabled_policy_and_manifests() {
        let mut v = chart_defaults();
        v["singleuser"]["networkPolicy"]["enabled"] = json!(false);
        assert!(network(&v, &labels(), &[]).reach(&meta()).all_ports());
        let extra = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "spec": {"podSelector": {"matchLabels": {"component": "singleuser-server", "release": "x"}},
              "policyTypes": ["Egress"],
              "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}]}]}});
        let docs = [ManifestDoc {
            file: "np.yaml",
            index: 0,
            doc: &extra,
        }];
        let n = network(&v, &labels(), &docs);
        assert!(n.reach(&meta()).none());
        assert!(n.reach(Network::private()).all_ports());
        let other = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "spec": {"podSelector": {"matchLabels": {"component": "hub"}}, "egress": []}});
        let docs = [ManifestDoc {
            file: "np.yaml",
            index: 0,
            doc: &other,
        }];
        assert!(!network(&v, &labels(), &docs).isolated);
    }

    fn cilium(egress: Value) -> Value {
        json!({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "c"},
            "spec": {"endpointSelector": {"matchLabels": {"k8s:component": "singleuser-server"}}, "egress": egress}})
    }

    fn web_only() -> Value {
        let mut v = chart_defaults();
        v["singleuser"]["networkPolicy"]["egressAllowRules"]["nonPrivateIPs"] = json!(false);
        v["singleuser"]["networkPolicy"]["egress"] = json!([{"to": [{"ipBlock": {"cidr": "0.0.0.0/0",
            "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]}}],
            "ports": [{"port": 80, "protocol": "TCP"}, {"port": 443, "protocol": "TCP"}]}]);
        v
    }

    #[test]
    fn cilium_rules_add_to_the_chart_policy() {
        let v = web_only();
        let world = cilium(json!([{"toEntities": ["world"]}]));
        let docs = [ManifestDoc {
            file: "c.yaml",
            index: 0,
            doc: &world,
        }];
        let n = network(&v, &labels(), &docs);
        assert!(n.foreign.is_empty());
        assert!(n.reach(&meta()).all_ports());
        assert!(n.reach(Network::public()).all_ports());
        let names = cilium(json!([{"toFQDNs": [{"matchName": "pypi.org"}],
            "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]}]));
        let docs = [ManifestDoc {
            file: "c.yaml",
            index: 0,
            doc: &names,
        }];
        let n = network(&v, &labels(), &docs);
        assert!(n.reach(&meta()).without(&[("TCP", 53), ("UDP", 53)]).none());
        assert_eq!(n.reach(Network::public()).describe(), "TCP/443, TCP/80");
    }

    #[test]
    fn cilium_denies_cut_every_allow_and_unknown_rules_are_foreign() {
        let v = chart_defaults();
        let deny = json!({"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy",
            "metadata": {"name": "d"}, "spec": {"endpointSelector": {},
            "egressDeny": [{"toCIDR": ["169.254.169.254/32"]}]}});
        let docs = [ManifestDoc {
            file: "d.yaml",
            index: 0,
            doc: &deny,
        }];
        let n = network(&v, &labels(), &docs);
        assert!(n.reach(&meta()).none());
        assert!(n.reach(Network::public()).all_ports());
        let odd = cilium(json!([{"toServices": [{"k8sService": {"serviceName": "s"}}]}]));
        let docs = [ManifestDoc {
            file: "c.yaml",
            index: 0,
            doc: &odd,
        }];
        let n = network(&v, &labels(), &docs);
        assert_eq!(n.foreign.len(), 1);
    }

    #[test]
    fn ranges() {
        let all = Ranges::of(&["0.0.0.0/0"]);
        let cut = all.minus(&Ranges::of(&["10.0.0.0/8"]).0);
        assert!(!cut.overlaps(&Ranges::of(&["10.1.2.3"])));
        assert!(cut.overlaps(&Ranges::of(&["11.0.0.0/8"])));
        assert!(Range::parse("10.0.0.1/33").is_none());
        assert!(Network::public().overlaps(&Ranges::of(&["2001:db8::/32"])));
        assert!(!Network::public().overlaps(&Ranges::of(&["fd00:ec2::254"])));
    }
}

//! Where a user pod can connect: the union of every NetworkPolicy that
//! selects it (the chart's own, rendered from values, and any passed as
//! manifests, Cilium's kinds included), evaluated as reachability per
//! address range and port.
//!
//! Kubernetes NetworkPolicies only allow: once one policy selects a pod for
//! egress, a connection is allowed when any rule of any selecting policy
//! matches it; with none, everything is allowed.

use std::sync::LazyLock;

use super::origin::Origin;

mod ranges;
mod read;

pub use ranges::{Range, Ranges};
pub use read::{ManifestDoc, go_truthy, network, selection, selects};

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

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

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

//! Host names user pods may reach besides the egress profile's addresses,
//! compiled to a CiliumNetworkPolicy (`toFQDNs`). Only Cilium enforces
//! names: on any other plugin a policy that lists them cannot compile.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::controls::lowering::Lowering;
use crate::effective::grade::Verdict;
use crate::effective::network::{Network, Peer, Port};
use crate::effective::{Origin, Pod};
use crate::plan::{Group, Selected};
use crate::policy::{EgressProfile, HostRule, MetadataMode, NetworkPlugin, Policy};

pub struct EgressNames;

pub(crate) static NONE: Setting = Setting {
    name: "none",
    rank: 0,
    summary: "no host names: user pods reach only the profile's addresses",
};
pub(crate) static NAMES: Setting = Setting {
    name: "names",
    rank: 1,
    summary: "listed host names on listed ports (Cilium `toFQDNs` `matchName`)",
};
pub(crate) static PATTERNS: Setting = Setting {
    name: "patterns",
    rank: 2,
    summary: "host names and `*.domain` patterns: every name one label below each domain",
};
pub(crate) static EVERY_NAME: Setting = Setting {
    name: "every-name",
    rank: 3,
    summary: "every host name (`matchPattern: \"*\"`): whatever address any DNS answer gives",
};

static FOUND_ONLY: [&Setting; 1] = [&EVERY_NAME];

static DEF: ControlDef = ControlDef {
    id: "egress-names",
    title: "Egress to host names",
    field: "/spec/egress/allowHosts",
    rationale: "Package indexes and git hosts move between addresses, so CIDR rules either break installs or open whole \
        clouds; a name opens only what DNS returns for it. Each name still opens every site that shares its addresses \
        (CDNs), and each pattern every name anyone can create under its domain.",
    settings: &[&NONE, &NAMES, &PATTERNS, &EVERY_NAME],
    values_keys: &[],
    read_only_keys: &[],
    spawner_traits: &[],
};

const PTR: &str = "/spec/egress/allowHosts";

/// `name:port,port` for each rule, sorted: the detail of a setting, which
/// `diff` and `check` compare as sets of names.
fn describe(entries: &BTreeSet<String>) -> String {
    entries.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// `name:443,22/UDP`, ports in numeric order (the same whichever order
/// the policy or the manifest lists them in).
fn entry(name: &str, ports: &[(u32, String)]) -> String {
    let mut ports = ports.to_vec();
    ports.sort();
    ports.dedup();
    let text: Vec<&str> = ports.iter().map(|(_, t)| t.as_str()).collect();
    format!("{name}:{}", text.join(","))
}

fn policy_entries(rules: &[HostRule]) -> BTreeSet<String> {
    rules
        .iter()
        .map(|r| {
            let ports: Vec<(u32, String)> = r
                .ports
                .iter()
                .map(|p| {
                    let n = u32::from(p.port.0);
                    (n, port_text(p.protocol.as_str(), n))
                })
                .collect();
            entry(&r.text().to_lowercase(), &ports)
        })
        .collect()
}

/// `443` for TCP, `53/UDP` otherwise.
fn port_text(protocol: &str, port: u32) -> String {
    match protocol {
        "TCP" => port.to_string(),
        p => format!("{port}/{p}"),
    }
}

/// A policy entry from `name:443,53/UDP`; `None` when the name, the
/// pattern or a port is beyond what the policy can say.
fn host_rule(entry: &str) -> Option<HostRule> {
    use crate::policy::{HostName, HostPattern, Port as PolicyPort, PortRule, Protocol};
    use crate::validate::formats::{fqdn_name, fqdn_pattern};
    let (name, ports) = entry.rsplit_once(':')?;
    let ports = ports
        .split(',')
        .map(|p| {
            let (n, protocol) = match p.split_once('/') {
                None => (p, Protocol::Tcp),
                Some((n, "UDP")) => (n, Protocol::Udp),
                Some((n, "SCTP")) => (n, Protocol::Sctp),
                Some(_) => return None,
            };
            let port = n.parse::<u16>().ok().filter(|n| *n > 0)?;
            Some(PortRule {
                port: PolicyPort(port),
                protocol,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let (name, pattern) = if fqdn_name(name).is_ok() {
        (Some(HostName(name.into())), None)
    } else if fqdn_pattern(name).is_ok() {
        (None, Some(HostPattern(name.into())))
    } else {
        return None;
    };
    Some(HostRule {
        name,
        pattern,
        ports,
    })
}

/// The entries of a setting's detail.
pub fn entries_of(detail: Option<&str>) -> BTreeSet<String> {
    // A detail read off several pods ends with `; <pod>`.
    detail
        .and_then(|d| d.split("; ").next())
        .into_iter()
        .flat_map(|d| d.split(", "))
        .filter(|e| e.contains(':'))
        .map(str::to_string)
        .collect()
}

/// A name the DNS names of cloud metadata services fall under.
fn names_metadata(text: &str) -> bool {
    crate::effective::cilium::METADATA_NAMES
        .iter()
        .any(|m| crate::effective::cilium::name_matches(text, m))
}

impl Control for EgressNames {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn admission_gap(&self) -> Option<&'static str> {
        Some(
            "which host names a pod reaches is decided by CiliumNetworkPolicies, not by the pod spec",
        )
    }
    fn found_only(&self) -> &'static [&'static Setting] {
        &FOUND_ONLY
    }
    fn selected(&self, p: &Policy) -> Selected {
        let hosts = &p.spec.egress.allow_hosts;
        if hosts.is_empty() {
            return NONE.selected();
        }
        let s = if hosts.iter().any(|h| h.pattern.is_some()) {
            &PATTERNS
        } else {
            &NAMES
        };
        s.with(describe(&policy_entries(hosts)))
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let hosts = &p.spec.egress.allow_hosts;
        if hosts.is_empty() {
            return;
        }
        if p.network_plugin != NetworkPlugin::Cilium {
            let plugin = match p.network_plugin {
                NetworkPlugin::Calico => "`networkPlugin: calico`",
                NetworkPlugin::Other => "`networkPlugin: other`",
                _ => "no `networkPlugin`",
            };
            cx.error(
                PTR,
                format!("egress by host name needs Cilium, and the policy states {plugin}: a Kubernetes NetworkPolicy cannot select names, so the names would be a silent no-op"),
                "on a Cilium cluster set `networkPlugin: cilium` (beside `kubernetesVersion`); elsewhere list the addresses in `egress.allow` instead",
            );
            return;
        }
        if !p.spec.network_policy.singleuser {
            // The CiliumNetworkPolicy would switch user pods to default-deny
            // with nothing but DNS and the names: not even the hub.
            cx.error(PTR, "host names add to the user NetworkPolicy, but `spec.networkPolicy.singleuser` is false", "enable `spec.networkPolicy.singleuser`");
            return;
        }
        if p.spec.egress.profile == EgressProfile::None {
            cx.error(
                PTR,
                "host names need DNS, which `egress.profile: none` closes",
                "use `egress.profile: dns-only` (or stronger profiles' DNS) with the names",
            );
            return;
        }
        let mut ok = true;
        for (i, h) in hosts.iter().enumerate() {
            let at = format!("{PTR}/{i}");
            if h.name.is_some() == h.pattern.is_some() {
                cx.error(&at, "give exactly one of `name` and `pattern`", "write one entry per name, e.g. `{name: pypi.org}` or `{pattern: '*.githubusercontent.com'}`");
                ok = false;
                continue;
            }
            if h.ports.is_empty() {
                cx.error(
                    &format!("{at}/ports"),
                    format!("`{}` lists no port", h.text()),
                    "list the ports the host serves (443 when omitted)",
                );
                ok = false;
            }
            if p.spec.cloud_metadata.mode != MetadataMode::Allow
                && names_metadata(&h.text().to_lowercase())
            {
                let field = if h.name.is_some() { "name" } else { "pattern" };
                cx.error(
                    &format!("{at}/{field}"),
                    format!(
                        "`{}` names the cloud metadata server, which `cloudMetadata.mode` blocks",
                        h.text()
                    ),
                    "remove it, or set `cloudMetadata.mode: allow` if user pods must reach it",
                );
                ok = false;
            }
        }
        if !ok {
            return;
        }
        let rules: Vec<Value> = hosts
            .iter()
            .map(|h| {
                let selector = match (&h.name, &h.pattern) {
                    (Some(n), _) => json!({"matchName": n.0.to_lowercase()}),
                    (_, p) => json!({"matchPattern": p.as_ref().map(|p| p.0.to_lowercase())}),
                };
                let ports: Vec<Value> = h
                    .ports
                    .iter()
                    .map(|p| json!({"port": p.port.0.to_string(), "protocol": p.protocol.as_str()}))
                    .collect();
                json!({"fqdns": [selector], "ports": ports})
            })
            .collect();
        let ctx = json!({
            "hub": p.metadata.name,
            "namespace": p.metadata.namespace,
            "rules": rules,
        });
        cx.manifest_with_comment(
            Group::Network,
            "cilium-egress-hosts.yaml",
            ctx,
            Some("Needs Cilium with its DNS proxy (L7 DNS visibility): it learns each name's addresses from the lookups it sees.".into()),
        );
        cx.note(PTR, "Cilium adds these names to what the user NetworkPolicy allows (policies selecting a pod add up); user pods must resolve names through kube-dns for the DNS proxy to see them, and an address stays open for the DNS answer's TTL (at least Cilium's `tofqdns-min-ttl`)");
        cx.warn(
            PTR,
            "a host name opens every site that shares its addresses: names served by a CDN or a cloud load balancer open much more than the name",
            "list names served from their own addresses where you can, and keep the ports narrow",
        );
        if let Some(i) = hosts.iter().position(|h| h.pattern.is_some()) {
            cx.warn(
                &format!("{PTR}/{i}/pattern"),
                format!("`{}` opens every name one label below its domain, including ones anyone can create there", hosts[i].text()),
                "list the names users need where the domain hosts others' content",
            );
        }
        if p.spec.egress.profile == EgressProfile::Internet {
            cx.note(PTR, "`egress.profile: internet` already opens every public address on every port: the names add nothing there");
        }
    }
    fn judge(&self, v: &ValuesView) -> super::Judgement {
        if v.manifests.is_none() {
            return super::Judgement::plain(ReadBack::CannotVerify {
                reason: "host names are allowed by CiliumNetworkPolicies, not Helm values; pass them with `--manifests`".into(),
            });
        }
        v.judge_pods(&DEF, names)
    }
    fn detail_direction(
        &self,
        old: Option<&str>,
        new: Option<&str>,
    ) -> Option<super::judge::Direction> {
        use super::judge::Direction;
        let (old, new) = (entries_of(old), entries_of(new));
        if !new.is_subset(&old) {
            Some(Direction::Weakens)
        } else if !old.is_subset(&new) {
            Some(Direction::Strengthens)
        } else {
            None
        }
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        if got.is(&EVERY_NAME) {
            return vec![format!(
                "a CiliumNetworkPolicy allows every host name ({}); the policy can only list names and `*.domain` patterns",
                got.detail.unwrap_or_default()
            )];
        }
        let mut lost = Vec::new();
        p.spec.egress.allow_hosts = entries_of(got.detail.as_deref())
            .into_iter()
            .filter_map(|e| {
                let rule = host_rule(&e);
                if rule.is_none() {
                    lost.push(format!("`{e}` (allowed by name) is not a name or `*.domain` pattern on numbered ports; the policy cannot express it"));
                }
                rule
            })
            .collect();
        if !p.spec.egress.allow_hosts.is_empty() {
            p.network_plugin = NetworkPlugin::Cilium;
        }
        lost
    }
    fn parameters(&self, p: &Policy, v: &ValuesView) -> Vec<String> {
        let want = policy_entries(&p.spec.egress.allow_hosts);
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        entries_of(got.detail.as_deref())
            .into_iter()
            .filter(|e| !want.contains(e))
            .map(|e| format!("`{e}` is allowed by name but not in `egress.allowHosts`"))
            .collect()
    }
}

/// The names a pod's network opens, with their ports.
fn names(pod: &Pod, net: &Network) -> Verdict {
    // Without isolation every address is open, names or not: that is the
    // `egress` control's finding, and nothing here is opened by name.
    if !net.isolated {
        return Verdict::found(pod, &NONE, None, None);
    }
    let mut found = BTreeSet::new();
    let mut first: Option<Origin> = None;
    let mut pattern = false;
    for r in &net.rules {
        for peer in r.peers.iter().flatten() {
            let Peer::Names(ns) = peer else { continue };
            let ports: Vec<(u32, String)> = match &r.ports {
                None => vec![(0, "every port".into())],
                Some(ps) => ps
                    .iter()
                    .map(|p| match p {
                        Port::Range { protocol, from, to } if from == to => {
                            (*from, port_text(protocol, *from))
                        }
                        Port::Range { from, .. } => (*from, p.describe()),
                        p => (0, p.describe()),
                    })
                    .collect(),
            };
            for n in ns {
                if n == "*" || n == "**" {
                    return Verdict::found(
                        pod,
                        &EVERY_NAME,
                        Some(format!("matchPattern `{n}`")),
                        Some(r.origin.clone()),
                    );
                }
                pattern |= n.contains('*');
                found.insert(entry(n, &ports));
                first.get_or_insert_with(|| r.origin.clone());
            }
        }
    }
    if found.is_empty() {
        return Verdict::found(pod, &NONE, None, None);
    }
    let s = if pattern { &PATTERNS } else { &NAMES };
    Verdict::found(pod, s, Some(describe(&found)), first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::judge::Direction;

    #[test]
    fn a_name_or_port_added_widens_and_one_removed_narrows() {
        let c = EgressNames;
        let one = Some("pypi.org:443");
        let two = Some("files.pythonhosted.org:443, pypi.org:443");
        assert_eq!(c.detail_direction(one, two), Some(Direction::Weakens));
        assert_eq!(c.detail_direction(two, one), Some(Direction::Strengthens));
        assert_eq!(
            c.detail_direction(one, Some("pypi.org:22,443")),
            Some(Direction::Weakens)
        );
        // One swapped for another opens a host it did not: a widening.
        assert_eq!(
            c.detail_direction(one, Some("github.com:443")),
            Some(Direction::Weakens)
        );
        assert_eq!(c.detail_direction(one, one), None);
    }

    #[test]
    fn entries_become_policy_rules_where_the_language_can_say_them() {
        let r = host_rule("github.com:22,443").unwrap();
        assert_eq!(r.text(), "github.com");
        assert_eq!(r.ports.len(), 2);
        let r = host_rule("*.githubusercontent.com:53/UDP").unwrap();
        assert!(r.pattern.is_some() && r.ports[0].protocol == crate::policy::Protocol::Udp);
        assert!(host_rule("files.*.org:443").is_none());
        assert!(host_rule("pypi.org:every port").is_none());
        assert!(host_rule("pypi.org:1000-2000/TCP").is_none());
    }

    #[test]
    fn entries_ignore_the_pod_a_detail_names() {
        let e = entries_of(Some("github.com:22,443, pypi.org:443; profile `gpu`"));
        assert_eq!(
            e.into_iter().collect::<Vec<_>>(),
            vec!["github.com:22,443".to_string(), "pypi.org:443".to_string()]
        );
    }
}

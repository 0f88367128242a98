//! Where user pods may connect outside the hub: named profiles plus
//! explicit allow rules, compiled into the user NetworkPolicy.

use serde_json::{Value, json};

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::controls::lowering::Lowering;
use crate::plan::Selected;
use crate::policy::{
    Cidr, EgressProfile, EgressRule, MetadataMode, Policy, Port, PortRule, Protocol,
};
use crate::validate::formats::cidr_contains;

pub struct EgressControl;

pub(crate) static NONE: Setting = Setting {
    name: "none",
    rank: 0,
    summary: "only the hub and proxy; no DNS",
};
pub(crate) static DNS_ONLY: Setting = Setting {
    name: "dns-only",
    rank: 1,
    summary: "DNS (port 53) to the cluster resolver, nothing else",
};
pub(crate) static HTTP_HTTPS: Setting = Setting {
    name: "http-https",
    rank: 2,
    summary: "DNS plus TCP 80 and 443 to public IPv4 addresses (private and link-local ranges excluded)",
};
pub(crate) static INTERNET: Setting = Setting {
    name: "internet",
    rank: 3,
    summary: "every port to public IPv4 addresses (chart default)",
};

const PROFILES: [EgressProfile; 4] = [
    EgressProfile::None,
    EgressProfile::DnsOnly,
    EgressProfile::HttpHttps,
    EgressProfile::Internet,
];

/// The setting of each profile.
fn setting(profile: EgressProfile) -> &'static Setting {
    match profile {
        EgressProfile::None => &NONE,
        EgressProfile::DnsOnly => &DNS_ONLY,
        EgressProfile::HttpHttps => &HTTP_HTTPS,
        EgressProfile::Internet => &INTERNET,
    }
}

/// `s`, with the number of extra allow rules as detail.
fn with_rules(s: &'static Setting, n: usize) -> Selected {
    match n {
        0 => s.selected(),
        n => s.with(format!("+{n} allow rule{}", if n == 1 { "" } else { "s" })),
    }
}

static DEF: ControlDef = ControlDef {
    id: "egress",
    title: "Egress from user pods",
    field: "/spec/egress/profile",
    rationale: "Open egress lets a server scan the cluster, reach internal services and the API server, mine and exfiltrate; \
        each profile trades that against what notebooks can download.",
    settings: &[&NONE, &DNS_ONLY, &HTTP_HTTPS, &INTERNET],
    values_keys: &[
        "singleuser.networkPolicy.enabled",
        "singleuser.networkPolicy.egressAllowRules.nonPrivateIPs",
        "singleuser.networkPolicy.egressAllowRules.privateIPs",
        "singleuser.networkPolicy.egress",
        "singleuser.networkPolicy.egressAllowRules.dnsPortsKubeSystemNamespace",
        "singleuser.networkPolicy.egressAllowRules.dnsPortsPrivateIPs",
        "singleuser.networkPolicy.egressAllowRules.dnsPortsCloudMetadataServer",
    ],
    read_only_keys: &["singleuser.networkPolicy.enabled"],
    spawner_traits: &[],
};

/// Private and link-local ranges kept out of "public" rules.
pub const PRIVATE_RANGES: &[&str] = &[
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
];
/// IPv6 unique-local and link-local space, for rules in `egress.allow`.
const PRIVATE_V6: &[&str] = &["fc00::/7", "fe80::/10"];
/// The IPv6 instance metadata endpoint (AWS Nitro); the IPv4 one is
/// `cloudMetadata.ip`.
const METADATA_V6: &str = "fd00:ec2::254/128";
const FLAGS: &[&str] = &["singleuser", "networkPolicy", "egressAllowRules"];

fn flag(name: &'static str) -> Vec<&'static str> {
    FLAGS.iter().copied().chain(std::iter::once(name)).collect()
}

impl Control for EgressControl {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn admission_gap(&self) -> Option<&'static str> {
        Some("which destinations a pod reaches is decided by NetworkPolicies, not by the pod spec")
    }
    fn selected(&self, p: &Policy) -> Selected {
        let e = &p.spec.egress;
        with_rules(setting(e.profile), e.allow.len())
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let e = &p.spec.egress;
        let restricts = e.profile != EgressProfile::Internet || !e.allow.is_empty();
        if restricts && !p.spec.network_policy.singleuser {
            cx.error(DEF.field, "egress rules need the user NetworkPolicy, but `spec.networkPolicy.singleuser` is false", "enable `spec.networkPolicy.singleuser`");
            return;
        }
        let dns = e.profile != EgressProfile::None;
        for name in [
            "dnsPortsCloudMetadataServer",
            "dnsPortsKubeSystemNamespace",
            "dnsPortsPrivateIPs",
        ] {
            cx.set(&flag(name), json!(dns));
        }
        cx.set(
            &flag("nonPrivateIPs"),
            json!(e.profile == EgressProfile::Internet),
        );
        cx.set(&flag("privateIPs"), json!(false));
        match e.profile {
            EgressProfile::None => cx.note(DEF.field, "user pods cannot resolve names or reach anything but the hub and proxy; package installs and git clones fail"),
            EgressProfile::HttpHttps => {
                let rule = json!({
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}}],
                    "ports": [{"protocol": "TCP", "port": 80}, {"protocol": "TCP", "port": 443}],
                });
                cx.append(&["singleuser", "networkPolicy", "egress"], rule);
            }
            EgressProfile::Internet => cx.warn(
                DEF.field,
                "user pods may connect to any port on any public address",
                "`egress.profile: http-https` keeps downloads working while closing SSH, SMTP, mining pools and other ports",
            ),
            EgressProfile::DnsOnly => {}
        }
        let metadata_ip = format!("{}/32", p.spec.cloud_metadata.ip);
        let block_metadata = p.spec.cloud_metadata.mode != MetadataMode::Allow;
        for (i, rule) in e.allow.iter().enumerate() {
            let ptr = format!("/spec/egress/allow/{i}");
            for (j, ex) in rule.except.iter().enumerate() {
                if !cidr_contains(&rule.cidr.0, &ex.0) {
                    cx.error(
                        &format!("{ptr}/except/{j}"),
                        format!("`{}` is not inside `{}`", ex.0, rule.cidr.0),
                        "`except` lists addresses within `cidr` that stay blocked",
                    );
                }
            }
            let mut except: Vec<String> = rule.except.iter().map(|c| c.0.clone()).collect();
            // `cidr_contains` never matches across families, so each rule
            // meets only the metadata address of its own family.
            for metadata in [metadata_ip.as_str(), METADATA_V6] {
                if !block_metadata
                    || !cidr_contains(&rule.cidr.0, metadata)
                    || except.iter().any(|x| cidr_contains(x, metadata))
                {
                    continue;
                }
                if rule.cidr.0 != metadata {
                    except.push(metadata.to_string());
                    cx.note(&format!("{ptr}/cidr"), format!("`{}` contains the metadata server; `{metadata}` was added to its `except` list", rule.cidr.0));
                } else {
                    cx.error(&format!("{ptr}/cidr"), "this rule allows the cloud metadata server, which `cloudMetadata.mode` blocks", "set `cloudMetadata.mode: allow` if user pods must reach it");
                }
            }
            // A private range counts as opened unless `except` keeps it closed.
            let opened = |r: &&str| {
                cidr_contains(r, &rule.cidr.0)
                    || (cidr_contains(&rule.cidr.0, r)
                        && !except.iter().any(|x| cidr_contains(x, r)))
            };
            if PRIVATE_RANGES[..3].iter().chain(PRIVATE_V6).any(opened) {
                cx.warn(&format!("{ptr}/cidr"), format!("`{}` opens egress into private address space", rule.cidr.0), "cluster-internal services, node ports and the API server may become reachable; allow the narrowest CIDR and ports");
            }
            let mut block = json!({"cidr": rule.cidr.0});
            if !except.is_empty() {
                block["except"] = json!(except);
            }
            let mut item = json!({"to": [{"ipBlock": block}]});
            if !rule.ports.is_empty() {
                item["ports"] = Value::Array(
                    rule.ports
                        .iter()
                        .map(|p| json!({"protocol": p.protocol.as_str(), "port": p.port.0}))
                        .collect(),
                );
            } else {
                cx.warn(
                    &format!("{ptr}/ports"),
                    format!("the rule for `{}` opens every port", rule.cidr.0),
                    "list the ports the destination needs",
                );
            }
            cx.append_at(&ptr, &["singleuser", "networkPolicy", "egress"], item);
        }
    }
    fn judge(&self, v: &ValuesView) -> super::Judgement {
        let keys = (|| -> ReadBack {
            if v.bool(&["singleuser", "networkPolicy", "enabled"]) == Some(false) {
                return ReadBack::Setting(INTERNET.with("no user NetworkPolicy"));
            }
            let f = |name: &str, default: bool| v.bool(&flag_str(name)).unwrap_or(default);
            let rules = v
                .get(&["singleuser", "networkPolicy", "egress"])
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            // The http-https profile's own rule: public IPv4, TCP 80 and 443 only.
            let web = rules.iter().any(is_web_rule);
            let extra = rules.len() - usize::from(web);
            let s = if f("nonPrivateIPs", true) || f("privateIPs", false) {
                &INTERNET
            } else if web {
                &HTTP_HTTPS
            } else if f("dnsPortsKubeSystemNamespace", true)
                || f("dnsPortsPrivateIPs", true)
                || f("dnsPortsCloudMetadataServer", true)
            {
                &DNS_ONLY
            } else {
                &NONE
            };
            ReadBack::Setting(with_rules(s, extra))
        })();
        // Rules the policy itself lists (`egress.allow`) are its stated
        // exceptions, not an opening; everything else is judged by reach.
        let user_rules = v
            .get(&["singleuser", "networkPolicy", "egress"])
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // The http-https profile's own rule is the profile, not an exception.
        let listed: Vec<bool> = user_rules
            .iter()
            .map(|rule| !is_web_rule(rule) && v.more.sanctioned_egress.contains(rule))
            .collect();
        let is_sanctioned = |r: &crate::effective::network::Rule| match &r.origin {
            crate::effective::Origin::Values { path }
                if path.len() >= 4
                    && path.starts_with_keys(&["singleuser", "networkPolicy", "egress"]) =>
            {
                let i: usize = path[3].parse().unwrap_or(usize::MAX);
                listed.get(i).copied().unwrap_or(false)
            }
            _ => false,
        };
        // The network without the sanctioned rules (borrowed when it has none).
        fn without<'n>(
            n: &'n crate::effective::network::Network,
            drop: impl Fn(&crate::effective::network::Rule) -> bool,
        ) -> std::borrow::Cow<'n, crate::effective::network::Network> {
            if !n.rules.iter().any(&drop) {
                return std::borrow::Cow::Borrowed(n);
            }
            let mut n = n.clone();
            n.rules.retain(|r| !drop(r));
            std::borrow::Cow::Owned(n)
        }
        // One reading of every pod gives both the setting and whether
        // private addresses are exposed.
        let exposes = std::cell::Cell::new(false);
        let mut j = super::reconcile(
            keys,
            v.judge_pods(&DEF, |p, n| {
                let (verdict, private) =
                    crate::effective::grade::egress(p, &without(n, is_sanctioned));
                exposes.set(exposes.get() || private);
                verdict
            }),
        );
        j.exposes = exposes.get();
        j
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        let e = &mut p.spec.egress;
        e.profile = super::value_of(&PROFILES, setting, &got).unwrap_or(EgressProfile::Internet);
        e.allow.clear();
        let mut lost = Vec::new();
        if v.bool(&["singleuser", "networkPolicy", "enabled"]) == Some(false) {
            return lost;
        }
        if v.bool(&[
            "singleuser",
            "networkPolicy",
            "egressAllowRules",
            "privateIPs",
        ]) == Some(true)
        {
            lost.push("`singleuser.networkPolicy.egressAllowRules.privateIPs: true` lets user pods reach every private address on every port; no profile opens that, and the compiled values close it (list the private services users need in `spec.egress.allow`)".into());
        }
        let rules = v
            .get(&["singleuser", "networkPolicy", "egress"])
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, rule) in rules.iter().enumerate() {
            if got.is(&HTTP_HTTPS) && is_web_rule(rule) {
                continue;
            }
            match allow_rules(rule) {
                Some(mut r) => e.allow.append(&mut r),
                None => lost.push(format!("`singleuser.networkPolicy.egress[{i}]` is not a plain ipBlock rule with numbered ports; the policy cannot express it")),
            }
        }
        lost
    }
}

/// The http-https profile's own rule: public IPv4, TCP 80 and 443 only.
fn is_web_rule(r: &Value) -> bool {
    r.pointer("/to/0/ipBlock/cidr").and_then(Value::as_str) == Some("0.0.0.0/0")
        && r.get("ports")
            == Some(&json!([{"protocol": "TCP", "port": 80}, {"protocol": "TCP", "port": 443}]))
}

/// A NetworkPolicy egress rule as policy allow rules (one per ipBlock).
fn allow_rules(rule: &Value) -> Option<Vec<EgressRule>> {
    use crate::validate::formats::cidr;
    let ports = match rule.get("ports") {
        None => Vec::new(),
        Some(ps) => ps
            .as_array()?
            .iter()
            .map(|p| {
                let port = u16::try_from(p.get("port")?.as_u64()?)
                    .ok()
                    .filter(|n| *n > 0)?;
                let protocol = match p.get("protocol").and_then(Value::as_str).unwrap_or("TCP") {
                    "TCP" => Protocol::Tcp,
                    "UDP" => Protocol::Udp,
                    "SCTP" => Protocol::Sctp,
                    _ => return None,
                };
                Some(PortRule {
                    port: Port(port),
                    protocol,
                })
            })
            .collect::<Option<Vec<_>>>()?,
    };
    let to = rule.get("to")?.as_array()?;
    to.iter()
        .map(|peer| {
            let block = peer.get("ipBlock")?;
            if peer.as_object()?.len() != 1 {
                return None;
            }
            let c = block.get("cidr")?.as_str().filter(|c| cidr(c).is_ok())?;
            let except = match block.get("except") {
                None => Vec::new(),
                Some(x) => x
                    .as_array()?
                    .iter()
                    .map(|e| {
                        e.as_str()
                            .filter(|c| cidr(c).is_ok())
                            .map(|c| Cidr(c.into()))
                    })
                    .collect::<Option<Vec<_>>>()?,
            };
            Some(EgressRule {
                cidr: Cidr(c.into()),
                except,
                ports: ports.clone(),
            })
        })
        .collect::<Option<Vec<_>>>()
        .filter(|r| !r.is_empty())
}

fn flag_str(name: &str) -> Vec<&str> {
    FLAGS.iter().copied().chain(std::iter::once(name)).collect()
}

#[cfg(test)]
mod mapping_tests {
    use super::*;

    /// Every setting is some profile's: the list of profiles misses none.
    #[test]
    fn every_setting_maps_back_to_its_profile() {
        super::super::assert_every_setting_maps_back(&DEF, &PROFILES, setting);
    }
}

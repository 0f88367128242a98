//! Reading the network controls off what a user pod can reach: the cloud
//! metadata server (with the chart's iptables blocker) and egress.

use serde_json::Value;

use super::grade::{Verdict, unknown};
use super::network::{METADATA_V6, Network, Range, Ranges, Reach};
use super::origin::Origin;
use super::pod::Pod;
use super::spawner::scalar_text;
use crate::controls::Setting;
use crate::controls::cloud_metadata::{ALLOW, IPTABLES, NETWORK_POLICY};
use crate::controls::egress::{DNS_ONLY, HTTP_HTTPS, INTERNET, NONE};

/// Who can reach the metadata server: `network-policy` blocks it,
/// `iptables` only the iptables rule stops it (TCP/80 on the IPv4 address),
/// `allow` reachable.
pub fn metadata(pod: &Pod, net: &Network, ip: &str) -> Verdict {
    if let Some(v) = on_node_network(
        pod,
        &ALLOW,
        "the metadata server is reachable as from the node",
    ) {
        return v;
    }
    let dns = [("TCP", 53), ("UDP", 53)];
    let v4 = Ranges(Range::parse(ip).into_iter().collect());
    let v6 = Ranges::of(&[METADATA_V6]);
    let reach4 = net.reach(&v4).without(&dns);
    let reach6 = net.reach(&v6).without(&dns);
    if reach4.none() && reach6.none() && net.foreign.is_empty() {
        // The network alone keeps it out, whatever the pod holds.
        let blocker = pod
            .containers()
            .into_iter()
            .find(|(p, c)| p.starts_with("/spec/initContainers/") && blocks_metadata(c, ip))
            .map(|(p, _)| pod.origin_of(&p).cloned());
        return match blocker {
            Some(o) => Verdict::found(pod, &IPTABLES, None, o),
            None => Verdict::found(
                pod,
                &NETWORK_POLICY,
                None,
                net.rules.first().map(|r| r.origin.clone()),
            ),
        };
    }
    if let Some(u) = unknown(pod, "/spec/initContainers") {
        return u;
    }
    let by = |r: &Reach| r.opened_by().first().cloned();
    let blocker = pod
        .containers()
        .into_iter()
        .find(|(p, c)| p.starts_with("/spec/initContainers/") && blocks_metadata(c, ip))
        .map(|(p, _)| pod.origin_of(&p).cloned());
    if reach4.none() && reach6.none() {
        if !net.foreign.is_empty() {
            return Verdict::Unknown {
                reason: "other network policy kinds apply and are not evaluated".into(),
                by: net.foreign[0].clone(),
            };
        }
        // Blocked by NetworkPolicy; a privileged iptables container beside
        // it is the weaker mode's cost all the same.
        if let Some(o) = blocker {
            return Verdict::found(pod, &IPTABLES, None, o);
        }
        return Verdict::found(
            pod,
            &NETWORK_POLICY,
            None,
            net.rules.first().map(|r| r.origin.clone()),
        );
    }
    let after_iptables = if blocker.is_some() {
        reach4.without(&[("TCP", 80)])
    } else {
        reach4.clone()
    };
    if let Some(o) = &blocker {
        // The iptables setting is TCP/80 on the IPv4 address by definition;
        // what else stays open is said, not graded down.
        let rest = if after_iptables.none() && reach6.none() {
            None
        } else if !after_iptables.none() {
            Some(format!(
                "also reachable: {ip} on {}",
                describe_minus_80(&reach4)
            ))
        } else {
            Some(format!(
                "also reachable: {METADATA_V6} on {}",
                reach6.describe()
            ))
        };
        return Verdict::found(pod, &IPTABLES, rest, o.clone());
    }
    let (what, r) = if !after_iptables.none() {
        let ports = if blocker.is_some() {
            describe_minus_80(&reach4)
        } else {
            reach4.describe()
        };
        (format!("{ip} on {ports}"), &reach4)
    } else {
        (format!("{METADATA_V6} on {}", reach6.describe()), &reach6)
    };
    // The chart adds its blocker to `init_containers`; an override that
    // replaced that list is what left the address open.
    let replaced = pod
        .origins
        .get("/spec/initContainers/~init_containers")
        .filter(|o| matches!(o, Origin::Values { path } if path.iter().any(|k| &**k == "kubespawner_override" || &**k == "KubeSpawner")))
        .cloned();
    let cause = if blocker.is_none() && r.allows("TCP", 80) {
        replaced.or_else(|| by(r))
    } else {
        by(r)
    };
    Verdict::found(pod, &ALLOW, Some(format!("reachable: {what}")), cause)
}

/// A pod on the node's network namespace (`hostNetwork: true`) is outside
/// what NetworkPolicies govern (Kubernetes leaves their effect on such pods
/// undefined and common plugins ignore them), and the chart's iptables
/// blocker would rewrite the node's own tables: its reach is the node's.
fn on_node_network(pod: &Pod, setting: &'static Setting, reach: &str) -> Option<Verdict> {
    const PTR: &str = "/spec/hostNetwork";
    if pod.json.pointer(PTR) != Some(&Value::Bool(true)) {
        return unknown(pod, PTR);
    }
    Some(Verdict::found(
        pod,
        setting,
        Some(format!(
            "the pod uses the node's network (hostNetwork): NetworkPolicies do not govern it; {reach}"
        )),
        pod.origin_of(PTR).cloned(),
    ))
}

fn describe_minus_80(r: &Reach) -> String {
    if r.all_ports() {
        "every port but TCP/80 (iptables)".into()
    } else {
        r.without(&[("TCP", 80)]).describe()
    }
}

/// The chart's iptables init container for `ip`.
pub fn blocks_metadata(c: &Value, ip: &str) -> bool {
    let cmd: Vec<String> = c
        .get("command")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(scalar_text).collect())
        .unwrap_or_default();
    cmd.first().is_some_and(|c| c == "iptables")
        && cmd.iter().any(|a| a == ip || a == &format!("{ip}/32"))
        && cmd.iter().any(|a| a == "DROP")
}

/// Egress: `none`, `dns-only`, `http-https` (DNS + TCP 80/443 to public
/// addresses), or `internet` (more). Detail says what more is reachable; `private` tells whether
/// private addresses beyond DNS are reachable.
pub fn egress(pod: &Pod, net: &Network) -> (Verdict, bool) {
    if let Some(v) = on_node_network(
        pod,
        &INTERNET,
        "every address and port the node reaches, private ones included",
    ) {
        return (v, true);
    }
    let dns = [("TCP", 53), ("UDP", 53)];
    // Half the public IPv4 (or IPv6) space counts as "public addresses";
    // a /16 of private space as "private addresses".
    let public = net.reach_broad(Network::public(), 1 << 31, 1 << 127);
    let private = net
        .reach_broad(Network::private(), 1 << 16, u128::MAX)
        .without(&dns);
    if !net.isolated {
        return (
            Verdict::found(
                pod,
                &INTERNET,
                Some("no NetworkPolicy restricts user pods: every address and port, private ones included".into()),
                Some(net.open_because.clone()),
            ),
            true,
        );
    }
    if !private.none() {
        return (
            Verdict::found(
                pod,
                &INTERNET,
                Some(format!("private addresses on {}", private.describe())),
                private.opened_by().first().cloned(),
            ),
            true,
        );
    }
    let single = |p: &super::network::Port, proto: &str, n: u32| matches!(p, super::network::Port::Range { protocol, from, to } if protocol == proto && *from == n && *to == n);
    let web_only = !public.all_ports()
        && public.ports().iter().all(|p| {
            [("TCP", 80), ("TCP", 443), ("TCP", 53), ("UDP", 53)]
                .iter()
                .any(|(proto, n)| single(p, proto, *n))
        });
    let web = public.allows("TCP", 80) || public.allows("TCP", 443);
    let verdict = if public.none() {
        let dns_any = net.rules.iter().any(|r| {
            r.ports.as_ref().is_some_and(|ps| {
                ps.iter()
                    .any(|p| p.matches("UDP", 53) || p.matches("TCP", 53))
            })
        });
        Verdict::found(
            pod,
            if dns_any { &DNS_ONLY } else { &NONE },
            None,
            net.rules.last().map(|r| r.origin.clone()),
        )
    } else if web_only && web {
        Verdict::found(pod, &HTTP_HTTPS, None, public.opened_by().first().cloned())
    } else if web_only {
        Verdict::found(
            pod,
            &DNS_ONLY,
            Some("port 53 to public addresses".into()),
            public.opened_by().first().cloned(),
        )
    } else {
        Verdict::found(
            pod,
            &INTERNET,
            Some(format!("public addresses on {}", public.describe())),
            public.opened_by().first().cloned(),
        )
    };
    (verdict, false)
}

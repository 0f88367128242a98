//! Reading a control's state off the effective pods: every container of
//! every pod, the weakest one deciding, each verdict naming the field's
//! origin. Graders return settings of the control they serve: the security
//! contexts of every container in `containers`, the token, resources and
//! image of the notebook in `workload`.

use std::sync::Arc;

use super::Deployment;
use super::network::Network;
use super::origin::Origin;
use super::pod::Pod;
use crate::controls::Setting;

mod containers;
mod workload;

pub(crate) use containers::is_chart_blocker;
pub use containers::{
    app_armor, capabilities, privilege_escalation, read_only_root, run_as_non_root, seccomp, uid,
};
pub use workload::{image_is_latest, limits, pinning, pull_policy, token};

/// A setting found, the pod it was found in and what decided it.
#[derive(Debug, Clone)]
pub struct Found {
    pub setting: &'static Setting,
    pub detail: Option<String>,
    pub by: Option<Origin>,
    pub pod: String,
}

impl Found {
    /// At setting `s` (the very setting, not one that looks alike).
    pub fn is(&self, s: &Setting) -> bool {
        std::ptr::eq(self.setting, s)
    }
}

impl PartialEq for Found {
    fn eq(&self, other: &Found) -> bool {
        self.is(other.setting)
            && self.detail == other.detail
            && self.by == other.by
            && self.pod == other.pod
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Found(Found),
    /// Code or an override that cannot be read decides it.
    Unknown {
        reason: String,
        by: Origin,
    },
}

impl Verdict {
    pub fn found(
        pod: &Pod,
        setting: &'static Setting,
        detail: Option<String>,
        by: Option<Origin>,
    ) -> Verdict {
        Verdict::Found(Found {
            setting,
            detail,
            by,
            pod: pod.label.clone(),
        })
    }
}

/// The weakest verdict over all pods. An unknown pod makes the whole
/// unknown, unless another pod is already at the weakest setting (`max_rank`).
/// Verdicts are drawn one at a time and the draw stops at the first found at
/// `max_rank`: nothing after it can change the answer (only a strictly
/// weaker setting replaces the one kept, and none is weaker), so the pods
/// after it are not graded.
pub fn weakest(verdicts: impl IntoIterator<Item = Verdict>, max_rank: u8) -> Option<Verdict> {
    let mut best: Option<Found> = None;
    let mut unknown: Option<Verdict> = None;
    for v in verdicts {
        match v {
            Verdict::Found(f) => {
                // Graders return their own control's settings, none weaker
                // than its weakest: the first at `max_rank` is the answer.
                debug_assert!(
                    f.setting.rank <= max_rank,
                    "{} beyond rank {max_rank}",
                    f.setting.name
                );
                if f.setting.rank >= max_rank {
                    return Some(Verdict::Found(f));
                }
                if best
                    .as_ref()
                    .is_none_or(|b| f.setting.rank > b.setting.rank)
                {
                    best = Some(f);
                }
            }
            u @ Verdict::Unknown { .. } => {
                unknown.get_or_insert(u);
            }
        }
    }
    match (best, unknown) {
        (_, Some(u)) => Some(u),
        (b, None) => b.map(Verdict::Found),
    }
}

/// Applies a grader to every pod and keeps the weakest.
pub fn over_pods(
    d: &Deployment,
    max_rank: u8,
    f: impl Fn(&Pod, &Network) -> Verdict,
) -> Option<Verdict> {
    over(d.pods.iter(), max_rank, f)
}

/// Applies a grader to some pods and keeps the weakest.
pub fn over<'p>(
    pods: impl Iterator<Item = &'p (Pod, Arc<Network>)>,
    max_rank: u8,
    f: impl Fn(&Pod, &Network) -> Verdict,
) -> Option<Verdict> {
    weakest(pods.map(|(p, n)| f(p, n)), max_rank)
}

pub fn unknown(pod: &Pod, ptr: &str) -> Option<Verdict> {
    pod.unknown_at(ptr).map(|w| Verdict::Unknown {
        reason: format!("{} ({})", w.what, pod.label),
        by: w.origin.clone(),
    })
}

/// Where the field at `ptr` was set; inside a container or volume taken
/// from values as written, the field's own key.
pub fn origin(pod: &Pod, ptr: &str) -> Option<Origin> {
    // The pointer and each of its prefixes, longest first (no copies).
    let mut p = ptr;
    loop {
        if let Some(o) = pod.origins.get(p) {
            let item = p.starts_with("/spec/initContainers/")
                || p.starts_with("/spec/volumes/")
                || p.starts_with("/spec/containers/0/volumeMounts/")
                || (p.starts_with("/spec/containers/") && p != "/spec/containers/0");
            if !item || p.len() == ptr.len() {
                return Some(o.clone());
            }
            let rest: Vec<String> = ptr[p.len()..]
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| crate::paths::unescape_pointer(s).into_owned())
                .collect();
            return Some(if rest.is_empty() {
                o.clone()
            } else {
                o.child(&rest)
            });
        }
        match p.rfind('/') {
            Some(i) => p = &p[..i],
            None => return None,
        }
    }
}

pub use super::reach::{blocks_metadata, egress, metadata};

#[cfg(test)]
mod tests {
    use super::super::Deployment;
    use super::*;
    use crate::controls::user_pods::escalation;
    use serde_json::{Value, json};

    fn chart() -> Value {
        json!({"singleuser": {
            "uid": 1000, "fsGid": 100, "allowPrivilegeEscalation": false,
            "image": {"name": "img", "tag": "1.0"},
            "cloudMetadata": {"blockWithIptables": true, "ip": "169.254.169.254"},
            "networkTools": {"image": {"name": "nt", "tag": "2"}},
            "networkPolicy": {"enabled": true, "egress": [], "egressAllowRules": {"cloudMetadataServer": false,
                "dnsPortsCloudMetadataServer": true, "dnsPortsKubeSystemNamespace": true, "dnsPortsPrivateIPs": true,
                "nonPrivateIPs": true, "privateIPs": false}},
        }})
    }

    fn judge(v: &Value, f: impl Fn(&Pod, &Network) -> Verdict, max_rank: u8) -> Verdict {
        over_pods(&Deployment::build(v, Some("4.4.0"), &[]), max_rank, &f).unwrap()
    }

    /// The setting's name (`?` when unknown) and detail.
    fn index(v: Verdict) -> (&'static str, Option<String>) {
        match v {
            Verdict::Found(f) => (f.setting.name, f.detail),
            Verdict::Unknown { reason, .. } => ("?", Some(reason)),
        }
    }

    #[test]
    fn the_weakest_is_drawn_until_a_pod_is_at_the_weakest_rank() {
        let found = |s: &'static Setting, pod: &str| {
            Verdict::Found(Found {
                setting: s,
                detail: None,
                by: None,
                pod: pod.into(),
            })
        };
        let unknown = || Verdict::Unknown {
            reason: "code".into(),
            by: Origin::default("x"),
        };
        let (strong, weak) = (&escalation::DENIED, &escalation::ALLOWED);
        let max = weak.rank;
        // The first pod at the weakest rank decides; later pods are never graded.
        let drawn = std::cell::Cell::new(0);
        let vs = [found(strong, "a"), found(weak, "b"), found(weak, "c")];
        let v = weakest(vs.into_iter().inspect(|_| drawn.set(drawn.get() + 1)), max);
        assert_eq!(v, Some(found(weak, "b")));
        assert_eq!(drawn.get(), 2);
        // An unknown pod outweighs a stronger reading, not one at the weakest.
        assert_eq!(
            weakest([found(strong, "a"), unknown()], max),
            Some(unknown())
        );
        assert_eq!(
            weakest([unknown(), found(weak, "b")], max),
            Some(found(weak, "b"))
        );
        assert_eq!(weakest([found(strong, "a")], max), Some(found(strong, "a")));
        assert_eq!(weakest(Vec::new(), max), None);
    }

    #[test]
    fn init_containers_are_graded() {
        let mut v = chart();
        v["singleuser"]["initContainers"] = json!([{"name": "setup", "image": "x",
            "securityContext": {"runAsUser": 0, "capabilities": {"add": ["NET_ADMIN"]}}}]);
        assert_eq!(
            index(judge(&v, run_as_non_root, 1)),
            (
                "not-required",
                Some("container `setup` runs as uid 0".into())
            )
        );
        assert_eq!(
            index(judge(&v, capabilities, 1)),
            (
                "runtime-default",
                Some("container `setup` adds NET_ADMIN".into())
            )
        );
    }

    #[test]
    fn the_chart_blocker_is_not_a_user_container_but_blocks_tcp_80() {
        let mut v = chart();
        assert_eq!(index(judge(&v, privilege_escalation, 1)), ("denied", None));
        // The chart's own rules keep the metadata address out, but the
        // privileged blocker is there all the same.
        let m = |v: &Value| index(judge(v, |p, n| metadata(p, n, "169.254.169.254"), 3)).0;
        assert_eq!(m(&v), "iptables");
        v["singleuser"]["networkPolicy"]["egressAllowRules"]["cloudMetadataServer"] = json!(true);
        assert_eq!(
            m(&v),
            "iptables",
            "every port is open, but the iptables setting is TCP/80 only"
        );
        v["singleuser"]["networkPolicy"]["egressAllowRules"]["cloudMetadataServer"] = json!(false);
        v["singleuser"]["networkPolicy"]["egress"] =
            json!([{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 80}]}]);
        assert_eq!(
            m(&v),
            "iptables",
            "only TCP/80 is open and iptables drops it"
        );
    }

    #[test]
    fn metadata_open_through_a_custom_rule() {
        let mut v = chart();
        v["singleuser"]["cloudMetadata"]["blockWithIptables"] = json!(false);
        v["singleuser"]["networkPolicy"]["egress"] = json!([{"to": [{"ipBlock": {"cidr": "0.0.0.0/0",
            "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}],
            "ports": [{"port": 80, "protocol": "TCP"}, {"port": 443, "protocol": "TCP"}]}]);
        let Verdict::Found(f) = judge(&v, |p, n| metadata(p, n, "169.254.169.254"), 3) else {
            panic!()
        };
        assert_eq!(f.setting.name, "allow");
        assert_eq!(
            f.by,
            Some(Origin::values(&[
                "singleuser",
                "networkPolicy",
                "egress",
                "0",
                "to",
                "0",
                "ipBlock",
                "cidr"
            ]))
        );
    }

    #[test]
    fn python_privileged_is_read_and_hooks_are_unknown() {
        let mut v = chart();
        v["hub"] = json!({"extraConfig": {"a": "c.KubeSpawner.privileged = True"}});
        assert_eq!(
            index(judge(&v, privilege_escalation, 1)),
            ("allowed", Some("privileged".into()))
        );
        v["hub"] = json!({"extraConfig": {"a": "c.KubeSpawner.modify_pod_hook = add_root_init"}});
        assert_eq!(index(judge(&v, privilege_escalation, 1)).0, "?");
    }

    #[test]
    fn latest_is_pulled_always() {
        let mut v = chart();
        v["singleuser"]["image"]["tag"] = json!("latest");
        assert_eq!(index(judge(&v, pull_policy, 2)).0, "always");
        assert!(image_is_latest("repo/img"));
        assert!(!image_is_latest("host:5000/img:1"));
        assert!(image_is_latest("host:5000/img"));
    }

    #[test]
    fn every_port_to_everything_is_not_http_https() {
        let mut v = chart();
        v["singleuser"]["networkPolicy"]["egressAllowRules"]["nonPrivateIPs"] = json!(false);
        v["singleuser"]["networkPolicy"]["egress"] =
            json!([{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]);
        let d = Deployment::build(&v, None, &[]);
        let (p, n) = d.first().unwrap();
        let (verdict, private) = egress(p, n);
        assert_eq!(index(verdict).0, "internet");
        assert!(private);
    }
}

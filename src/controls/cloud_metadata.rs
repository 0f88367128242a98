//! Keeping user pods away from the cloud metadata server.

use serde_json::json;

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::admission::cel::{self, Lists};
use crate::controls::lowering::Lowering;
use crate::plan::Selected;
use crate::policy::{ApiAccessMode, EgressProfile, IdentityProvider, MetadataMode, Policy};

pub struct CloudMetadataControl;

pub(crate) static NETWORK_POLICY: Setting = Setting {
    name: "network-policy",
    rank: 0,
    summary: "the user NetworkPolicy excludes the address on every port; no privileged container (needs an enforcing CNI)",
};
pub(crate) static IPTABLES: Setting = Setting {
    name: "iptables",
    // Two steps below: it makes every user pod privileged.
    rank: 2,
    summary: "a privileged root init container drops TCP/80 to the address (chart default)",
};
pub(crate) static ALLOW: Setting = Setting {
    name: "allow",
    rank: 3,
    summary: "user pods may reach the metadata server",
};

const MODES: [MetadataMode; 3] = [
    MetadataMode::NetworkPolicy,
    MetadataMode::Iptables,
    MetadataMode::Allow,
];

/// The setting of each mode.
fn setting(mode: MetadataMode) -> &'static Setting {
    match mode {
        MetadataMode::NetworkPolicy => &NETWORK_POLICY,
        MetadataMode::Iptables => &IPTABLES,
        MetadataMode::Allow => &ALLOW,
    }
}

static DEF: ControlDef = ControlDef {
    id: "cloud-metadata",
    title: "Cloud metadata server",
    field: "/spec/cloudMetadata/mode",
    rationale: "The metadata server hands out node credentials and cloud identity to anything that asks; \
        a user who reaches it can act as the node.",
    settings: &[&NETWORK_POLICY, &IPTABLES, &ALLOW],
    values_keys: &[
        "singleuser.cloudMetadata.blockWithIptables",
        "singleuser.networkPolicy.enabled",
        "singleuser.networkPolicy.egressAllowRules.cloudMetadataServer",
        "hub.config.KubeSpawner.init_containers",
        "singleuser.cloudMetadata.ip",
    ],
    read_only_keys: &[
        "hub.config.KubeSpawner.init_containers",
        "singleuser.networkPolicy.enabled",
    ],
    spawner_traits: &["init_containers"],
};

/// The network-tools image of the policy's chart release (Docker Hub up
/// to 3.1.0, quay.io since), as `name:` for a prefix match on the tag.
fn network_tools(p: &Policy) -> String {
    let name = crate::chart::releases::nearest(&p.chart)
        .and_then(|r| {
            r.defaults()
                .pointer("/singleuser/networkTools/image/name")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| "quay.io/jupyterhub/k8s-network-tools".into());
    format!("{name}:")
}

/// With `iptables`, the chart's blocker init container (privileged, uid 0,
/// NET_ADMIN) is this control's accepted trade-off: as CEL over `c`, a
/// container that is exactly it — its name, the chart's image and the one
/// iptables rule for the policy's address.
fn blocker(p: &Policy) -> Option<String> {
    let m = &p.spec.cloud_metadata;
    if m.mode != MetadataMode::Iptables {
        return None;
    }
    let command = [
        "iptables",
        "--append",
        "OUTPUT",
        "--protocol",
        "tcp",
        "--destination",
        &m.ip,
        "--destination-port",
        "80",
        "--jump",
        "DROP",
    ];
    Some(format!(
        "c.name == \"block-cloud-metadata\" && c.image.startsWith({}) && has(c.command) && c.command == {} && !has(c.args)",
        cel::string(&network_tools(p)),
        cel::strings(&command)
    ))
}

/// `pred` holds for every container of a user pod but the blocker.
pub(super) fn every_user_container(p: &Policy, lists: Lists, pred: &str) -> String {
    cel::every_container(lists, pred, blocker(p).as_deref())
}

/// The provider of the policy's workload identity, if it names one.
fn identity_provider(p: &Policy) -> Option<IdentityProvider> {
    let a = &p.spec.api_access;
    if a.mode != ApiAccessMode::WorkloadIdentity {
        return None;
    }
    a.workload_identity.as_ref().and_then(|w| w.provider)
}

impl Control for CloudMetadataControl {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn pod_security(&self, p: &Policy) -> Option<super::pod_security::PssReason> {
        (p.spec.cloud_metadata.mode == MetadataMode::Iptables).then(|| {
            super::pod_security::PssReason::Privileged(
                "`cloudMetadata.mode: iptables` adds a privileged root init container to user pods"
                    .into(),
            )
        })
    }

    fn admission_gap(&self) -> Option<&'static str> {
        Some(
            "which addresses a pod reaches is decided by NetworkPolicies and the node, not by the pod spec; with `iptables` the blocker init container is admitted as the chart builds it",
        )
    }

    fn selected(&self, p: &Policy) -> Selected {
        setting(p.spec.cloud_metadata.mode).selected()
    }

    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let cm = &p.spec.cloud_metadata;
        cx.set_at(
            "/spec/cloudMetadata/ip",
            &["singleuser", "cloudMetadata", "ip"],
            json!(cm.ip),
        );
        let netpol = p.spec.network_policy.singleuser;
        let identity = identity_provider(p);
        if identity == Some(IdentityProvider::Gke) && cm.mode != MetadataMode::Allow {
            cx.error(
                DEF.field,
                format!(
                    "`apiAccess.workloadIdentity.provider: gke` needs the metadata address, which {}",
                    if cm.mode == MetadataMode::Iptables {
                        "the iptables rule drops (TCP/80)"
                    } else {
                        "the user NetworkPolicy excludes"
                    }
                ),
                "set `cloudMetadata.mode: allow`: with Workload Identity Federation for GKE the GKE metadata server answers at 169.254.169.254 with the pod's workload identity, not the node's credentials",
            );
            return;
        }
        match cm.mode {
            MetadataMode::NetworkPolicy => {
                if !netpol {
                    cx.error(
                        DEF.field,
                        "`cloudMetadata.mode: network-policy` needs the user NetworkPolicy, but `spec.networkPolicy.singleuser` is false",
                        "enable `spec.networkPolicy.singleuser`, or use `mode: iptables`",
                    );
                    return;
                }
                cx.set(
                    &["singleuser", "cloudMetadata", "blockWithIptables"],
                    json!(false),
                );
                cx.set(
                    &[
                        "singleuser",
                        "networkPolicy",
                        "egressAllowRules",
                        "cloudMetadataServer",
                    ],
                    json!(false),
                );
                cx.note(DEF.field, "metadata blocking relies on the user NetworkPolicy: without an enforcing CNI the server is reachable");
            }
            MetadataMode::Iptables => {
                cx.set(
                    &["singleuser", "cloudMetadata", "blockWithIptables"],
                    json!(true),
                );
                // The chart refuses iptables blocking together with an allow rule for the server.
                cx.set(
                    &[
                        "singleuser",
                        "networkPolicy",
                        "egressAllowRules",
                        "cloudMetadataServer",
                    ],
                    json!(false),
                );
                cx.warn(
                    DEF.field,
                    "metadata blocking uses a privileged root init container with NET_ADMIN, and blocks TCP port 80 only",
                    "user pods then meet only the `privileged` Pod Security level; use `mode: network-policy` where the CNI enforces NetworkPolicies",
                );
            }
            MetadataMode::Allow => {
                cx.set(
                    &["singleuser", "cloudMetadata", "blockWithIptables"],
                    json!(false),
                );
                cx.set(
                    &[
                        "singleuser",
                        "networkPolicy",
                        "egressAllowRules",
                        "cloudMetadataServer",
                    ],
                    json!(true),
                );
                let help = match identity {
                    Some(IdentityProvider::Gke) => "the GKE metadata server answers there with the pod's workload identity, not the node's credentials, on node pools with Workload Identity Federation for GKE (`--workload-metadata=GKE_METADATA`; Autopilot always); pods on other node pools read the node's credentials".to_string(),
                    Some(provider) => format!(
                        "workload identity on `{}` does not use the metadata server ({}); block it (`mode: network-policy`) unless something else needs it, or users can read the node's cloud credentials",
                        provider.as_str(),
                        match provider {
                            IdentityProvider::EksPodIdentity => "EKS Pod Identity hands out credentials at 169.254.170.23",
                            _ => "the pod exchanges a projected token with the cloud",
                        }
                    ),
                    None => "anyone with a server can read the node's cloud credentials unless workload identity (`apiAccess.mode: workload-identity` with GKE) serves that address".to_string(),
                };
                cx.warn(
                    DEF.field,
                    format!("user pods can reach the cloud metadata server at {}", cm.ip),
                    help,
                );
                if identity == Some(IdentityProvider::Gke)
                    && netpol
                    && p.spec.egress.profile != EgressProfile::Internet
                {
                    cx.note(
                        DEF.field,
                        "on GKE clusters without Dataplane V2 the node redirects metadata requests to 169.254.169.252:988 before NetworkPolicies apply: add `{cidr: 169.254.169.252/32, ports: [{port: 988}]}` to `egress.allow` there",
                    );
                }
            }
        }
    }

    fn judge(&self, v: &ValuesView) -> super::Judgement {
        let keys = (|| -> ReadBack {
            let iptables = v
                .bool(&["singleuser", "cloudMetadata", "blockWithIptables"])
                .unwrap_or(true);
            if iptables
                && v.get(&["hub", "config", "KubeSpawner", "init_containers"])
                    .is_some()
            {
                return ReadBack::CannotVerify {
                reason:
                    "hub.config.KubeSpawner.init_containers replaces the iptables init container"
                        .into(),
            };
            }
            if iptables {
                return ReadBack::Setting(IPTABLES.selected());
            }
            let netpol = v
                .bool(&["singleuser", "networkPolicy", "enabled"])
                .unwrap_or(true);
            let allowed = v
                .bool(&[
                    "singleuser",
                    "networkPolicy",
                    "egressAllowRules",
                    "cloudMetadataServer",
                ])
                .unwrap_or(false);
            ReadBack::Setting(
                if netpol && !allowed {
                    &NETWORK_POLICY
                } else {
                    &ALLOW
                }
                .selected(),
            )
        })();
        let ip = v
            .str(&["singleuser", "cloudMetadata", "ip"])
            .unwrap_or("169.254.169.254")
            .to_string();
        super::reconcile(
            keys,
            v.judge_pods(&DEF, |p, n| crate::effective::grade::metadata(p, n, &ip)),
        )
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let cm = &mut p.spec.cloud_metadata;
        if let Some(ip) = v
            .str(&["singleuser", "cloudMetadata", "ip"])
            .filter(|ip| crate::validate::formats::ipv4(ip).is_ok())
        {
            cm.ip = ip.to_string();
        }
        match super::read_setting(self, v) {
            Some(got) => {
                cm.mode = super::value_of(&MODES, setting, &got).unwrap_or(MetadataMode::Allow);
                Vec::new()
            }
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod mapping_tests {
    use super::*;

    /// Every setting is some mode's: the list of modes misses none.
    #[test]
    fn every_setting_maps_back_to_its_mode() {
        super::super::assert_every_setting_maps_back(&DEF, &MODES, setting);
    }
}

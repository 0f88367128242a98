//! Process limits. No pod or chart setting exists: the kubelet enforces
//! `podPidsLimit` node-wide, so the policy compiles to a node requirement.

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::controls::lowering::Lowering;
use crate::plan::Selected;
use crate::policy::Policy;

pub struct PidsControl;

static LIMITED: Setting = Setting {
    name: "limited",
    rank: 0,
    summary: "a node requirement: kubelet `podPidsLimit` (printed as a note; nothing in values)",
};
static UNLIMITED: Setting = Setting {
    name: "unlimited",
    rank: 1,
    summary: "no requirement stated",
};

static DEF: ControlDef = ControlDef {
    id: "pid-limit",
    title: "Process (PID) limit per pod",
    field: "/spec/pids/limit",
    rationale: "A fork bomb in one server can use up the node's process IDs and take down every pod on it.",
    settings: &[&LIMITED, &UNLIMITED],
    values_keys: &[],
    read_only_keys: &[],
    spawner_traits: &[],
};

impl Control for PidsControl {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn admission_gap(&self) -> Option<&'static str> {
        Some("the PID limit is the kubelet's podPidsLimit; a pod spec has no field for it")
    }
    fn selected(&self, p: &Policy) -> Selected {
        match p.spec.pids.limit {
            Some(n) => LIMITED.with(n.to_string()),
            None => UNLIMITED.selected(),
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        match p.spec.pids.limit {
            Some(n) => cx.note(
                DEF.field,
                format!(
                    "PID limits are node configuration, not pod fields; add to the KubeletConfiguration of the nodes that run user pods:\n\
                     \n    apiVersion: kubelet.config.k8s.io/v1beta1\n    kind: KubeletConfiguration\n    podPidsLimit: {n}\n\n\
                     (kubelet flag `--pod-max-pids={n}`; EKS: kubelet extra config in the node group's bootstrap; GKE: node system config \
                     `kubeletConfig.podPidsLimit`; AKS: custom node configuration `podMaxPids`)"
                ),
            ),
            None => cx.note(DEF.field, "no PID limit is required: unless the kubelet sets `podPidsLimit`, one server can exhaust the node's PIDs"),
        }
    }
    fn read_back(&self, _v: &ValuesView) -> ReadBack {
        ReadBack::CannotVerify {
            reason: "PID limits are kubelet configuration (podPidsLimit), not Helm values".into(),
        }
    }
}

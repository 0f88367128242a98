//! The Pod Security Standards level of the user pods: the floor every pod
//! the hub spawns must meet, checked rule by rule on the effective pods
//! (every container, host namespaces, volumes, sysctls) rather than from
//! the few settings that compile to it.

use super::pod_security::implied_level;
use super::{Control, ControlDef, Judgement, Setting, ValuesView};
use crate::controls::lowering::Lowering;
use crate::effective::pss;
use crate::plan::Selected;
use crate::policy::{PodLevel, Policy, PsaLevel};

pub struct UserPodLevel;

pub(crate) static RESTRICTED: Setting = Setting {
    name: "restricted",
    rank: 0,
    summary: "every container of every user pod meets the restricted standard (non-root, no escalation, drop ALL, seccomp, only PVC-style volumes)",
};
pub(crate) static BASELINE: Setting = Setting {
    name: "baseline",
    rank: 1,
    summary: "no privileged container, host namespace, hostPath, host port or extra capability; containers may run as root",
};
pub(crate) static PRIVILEGED: Setting = Setting {
    name: "privileged",
    rank: 2,
    summary: "no standard holds: host namespaces, host paths or privileged containers (the chart's iptables metadata blocker is one)",
};

/// The setting of a level the effective pods meet.
pub(crate) fn of(level: pss::Level) -> &'static Setting {
    match level {
        pss::Level::Restricted => &RESTRICTED,
        pss::Level::Baseline => &BASELINE,
        pss::Level::Privileged => &PRIVILEGED,
    }
}

static DEF: ControlDef = ControlDef {
    id: "user-pod-level",
    title: "Pod Security Standards level of user pods",
    field: "/spec/userPods/level",
    rationale: "The Pod Security Standards sum up what a container breakout starts from: host namespaces, host \
        paths, privileged or root containers. Every pod the hub can spawn — each profile, each init container \
        and sidecar, whatever `extraPodConfig` replaces — is held to the level the policy implies.",
    settings: &[&RESTRICTED, &BASELINE, &PRIVILEGED],
    values_keys: &[
        "singleuser.extraPodConfig",
        "singleuser.extraContainers",
        "singleuser.initContainers",
        "singleuser.storage.extraVolumes",
        "singleuser.cloudMetadata.blockWithIptables",
        "hub.config.KubeSpawner",
        "hub.extraConfig",
    ],
    read_only_keys: &[
        "singleuser.extraPodConfig",
        "singleuser.extraContainers",
        "singleuser.initContainers",
        "singleuser.storage.extraVolumes",
        "singleuser.cloudMetadata.blockWithIptables",
        "hub.config.KubeSpawner",
        "hub.extraConfig",
    ],
    spawner_traits: &[
        "extra_pod_config",
        "extra_container_config",
        "init_containers",
        "extra_containers",
        "volumes",
        "privileged",
        "uid",
        "allow_privilege_escalation",
        "container_security_context",
        "pod_security_context",
    ],
};

fn implied(level: PsaLevel) -> &'static Setting {
    match level {
        PsaLevel::Restricted => &RESTRICTED,
        PsaLevel::Baseline => &BASELINE,
        PsaLevel::Privileged | PsaLevel::None => &PRIVILEGED,
    }
}

fn stated(level: PodLevel) -> Option<&'static Setting> {
    match level {
        PodLevel::Auto => None,
        PodLevel::Restricted => Some(&RESTRICTED),
        PodLevel::Baseline => Some(&BASELINE),
        PodLevel::Privileged => Some(&PRIVILEGED),
    }
}

impl Control for UserPodLevel {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }

    fn selected(&self, p: &Policy) -> Selected {
        match stated(p.spec.user_pods.level) {
            Some(s) => s.selected(),
            None => implied(implied_level(p).0).with("auto"),
        }
    }

    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        // Nothing to emit: the level follows from the other settings. A
        // stated level those settings cannot meet is an error.
        let (level, reasons) = implied_level(p);
        if let Some(s) = stated(p.spec.user_pods.level)
            && s.rank < implied(level).rank
        {
            cx.error(
                DEF.field,
                format!(
                    "user pods cannot meet `{}`: the policy's settings give `{}`",
                    s.name,
                    level.as_str()
                ),
                format!(
                    "{}; strengthen those settings or use `level: auto`",
                    reasons.join("; ")
                ),
            );
        }
    }

    fn built_from(&self) -> &'static [&'static str] {
        &[
            "cloud-metadata",
            "run-as-non-root",
            "privilege-escalation",
            "capabilities",
            "seccomp",
        ]
    }

    fn judge(&self, v: &ValuesView) -> Judgement {
        v.judge_pods(&DEF, pss::pod_level)
    }

    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        // Runs after the pod controls: `p` already implies what they found.
        if got.setting.rank <= implied(implied_level(p).0).rank {
            return Vec::new();
        }
        p.spec.user_pods.level = if got.is(&BASELINE) {
            PodLevel::Baseline
        } else {
            PodLevel::Privileged
        };
        vec![format!(
            "user pods meet only the `{}` standard ({}); the proposal states `userPods.level: {}` — remove it once the pods are fixed",
            got.setting.name,
            got.detail.as_deref().unwrap_or("see audit"),
            got.setting.name,
        )]
    }
}

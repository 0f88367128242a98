//! Pod Security Admission labels on the hub namespace — the successor of
//! PodSecurityPolicy. The level follows from the rest of the policy.

use serde_json::{Value, json};

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::controls::lowering::Lowering;
use crate::plan::{Group, Selected};
use crate::policy::{EnforceLevel, Policy, PsaLevel};

pub struct PodSecurityAdmission;

static RESTRICTED: Setting = Setting {
    name: "restricted",
    rank: 0,
    summary: "`pod-security.kubernetes.io/enforce: restricted`",
};
static BASELINE: Setting = Setting {
    name: "baseline",
    rank: 1,
    summary: "`enforce: baseline` (no privileged or host access)",
};
static PRIVILEGED: Setting = Setting {
    name: "privileged",
    rank: 2,
    summary: "`enforce: privileged` (labels for audit and warn only)",
};
static NONE: Setting = Setting {
    name: "none",
    rank: 3,
    summary: "no enforce label",
};

static DEF: ControlDef = ControlDef {
    id: "pod-security-admission",
    title: "Pod Security Admission level of the hub namespace",
    field: "/spec/podSecurity/enforce",
    rationale: "The namespace label makes the API server refuse pods weaker than the level, so a mistake in values \
        (or a profile override) fails loudly instead of running.",
    settings: &[&RESTRICTED, &BASELINE, &PRIVILEGED, &NONE],
    values_keys: &[],
    read_only_keys: &[],
    spawner_traits: &[],
};

/// The pinned version for the labels.
pub fn psa_version(p: &Policy) -> String {
    match p.spec.pod_security.version.as_str() {
        "auto" => format!("v{}", p.kubernetes_version.trim_start_matches('v')),
        v => v.to_string(),
    }
}

/// What a control's selected setting does to the Pod Security Standards
/// level the hub's pods can meet ([`Control::pod_security`]): the level it
/// caps them at, and why, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PssReason {
    Baseline(String),
    Privileged(String),
}

/// The strongest level every pod the policy creates meets, with the reasons
/// it is not higher: those of the lowest cap any control puts on the pods.
pub fn implied_level(p: &Policy) -> (PsaLevel, Vec<String>) {
    let (mut privileged, mut baseline) = (Vec::new(), Vec::new());
    for r in super::ALL.iter().filter_map(|c| c.pod_security(p)) {
        match r {
            PssReason::Privileged(why) => privileged.push(why),
            PssReason::Baseline(why) => baseline.push(why),
        }
    }
    match (privileged.is_empty(), baseline.is_empty()) {
        (false, _) => (PsaLevel::Privileged, privileged),
        (true, false) => (PsaLevel::Baseline, baseline),
        (true, true) => (PsaLevel::Restricted, baseline),
    }
}

/// The enforce level the policy resolves to.
pub fn enforce_level(p: &Policy) -> PsaLevel {
    match p.spec.pod_security.enforce {
        EnforceLevel::Auto => implied_level(p).0,
        EnforceLevel::Restricted => PsaLevel::Restricted,
        EnforceLevel::Baseline => PsaLevel::Baseline,
        EnforceLevel::Privileged => PsaLevel::Privileged,
        EnforceLevel::None => PsaLevel::None,
    }
}

fn setting(level: PsaLevel) -> &'static Setting {
    match level {
        PsaLevel::Restricted => &RESTRICTED,
        PsaLevel::Baseline => &BASELINE,
        PsaLevel::Privileged => &PRIVILEGED,
        PsaLevel::None => &NONE,
    }
}

impl Control for PodSecurityAdmission {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn selected(&self, p: &Policy) -> Selected {
        let level = enforce_level(p);
        match p.spec.pod_security.enforce {
            EnforceLevel::Auto => setting(level).with("auto"),
            _ => setting(level).selected(),
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let ps = &p.spec.pod_security;
        let (implied, reasons) = implied_level(p);
        let enforce = enforce_level(p);
        if enforce != PsaLevel::None && enforce < implied {
            cx.error(
                DEF.field,
                format!(
                    "`enforce: {}` would refuse the pods this policy creates (they meet `{}`)",
                    enforce.as_str(),
                    implied.as_str()
                ),
                format!(
                    "{}; use `enforce: auto` or strengthen those settings",
                    reasons.join("; ")
                ),
            );
            return;
        }
        if ps.enforce == EnforceLevel::Auto && !reasons.is_empty() {
            cx.note(
                DEF.field,
                format!(
                    "`enforce: auto` resolves to `{}`: {}",
                    implied.as_str(),
                    reasons.join("; ")
                ),
            );
        }
        let mut labels = serde_json::Map::new();
        labels.insert("app.kubernetes.io/managed-by".into(), json!("z2jh-policy"));
        labels.insert("app.kubernetes.io/part-of".into(), json!(p.metadata.name));
        labels.insert("app.kubernetes.io/component".into(), json!("hub"));
        let version = psa_version(p);
        for (mode, level) in [("enforce", enforce), ("audit", ps.audit), ("warn", ps.warn)] {
            if level != PsaLevel::None {
                labels.insert(
                    format!("pod-security.kubernetes.io/{mode}"),
                    json!(level.as_str()),
                );
                labels.insert(
                    format!("pod-security.kubernetes.io/{mode}-version"),
                    json!(version),
                );
            }
        }
        if labels.len() == 3 {
            cx.warn(DEF.field, "the hub namespace gets no Pod Security labels", "nothing stops a weaker pod (from a profile override or a hand edit) from running; set `podSecurity.enforce: auto`");
        }
        // The mesh's injection label and annotations go on the same object.
        let (mesh_labels, annotations) = super::internal_tls::namespace_metadata(p);
        if labels.len() == 3 && mesh_labels.is_empty() && annotations.is_empty() {
            return;
        }
        labels.extend(mesh_labels);
        let ctx = json!({"hub": p.metadata.name, "namespace": p.metadata.namespace, "labels": labels, "annotations": annotations});
        cx.manifest(Group::Namespace, "hub-namespace.yaml", ctx);
        cx.note(DEF.field, format!("apply manifests/namespace.yaml before `helm install` (or label the existing namespace `{}`); Helm's --create-namespace would create it without labels", p.metadata.namespace));
    }
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        if v.manifests.is_none() {
            return ReadBack::CannotVerify {
                reason: "Pod Security labels live on the Namespace, not in Helm values".into(),
            };
        }
        // pod-creator's workload namespace is labelled too; only the hub's counts here.
        let hub_ns = v.manifests.unwrap_or_default().iter().find(|m| {
            m["kind"] == "Namespace"
                && m.pointer("/metadata/labels/app.kubernetes.io~1component")
                    .and_then(Value::as_str)
                    == Some("hub")
        });
        let Some(ns) = hub_ns else {
            return ReadBack::Setting(NONE.selected());
        };
        let label = ns
            .pointer("/metadata/labels")
            .and_then(|l| l.get("pod-security.kubernetes.io/enforce"))
            .and_then(Value::as_str);
        ReadBack::Setting(
            match label {
                Some("restricted") => &RESTRICTED,
                Some("baseline") => &BASELINE,
                Some("privileged") => &PRIVILEGED,
                _ => &NONE,
            }
            .selected(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::{ALL, Control, by_id, judge};
    use crate::parse::{Input, load};
    use crate::policy::{Capabilities, MetadataMode, Profile};

    /// Controls that cap the implied level but are not what the user pods'
    /// level is built from (their values are no fix for it), and why.
    const NOT_BUILT_FROM: &[(&str, &str)] = &[
        (
            "internal-tls",
            "the mesh's webhook injects its init container at admission; no values carry it",
        ),
        (
            "chart-pod-hardening",
            "it caps the chart's own pods, not the user pods",
        ),
    ];

    /// Each control the user pods' level is built from caps it, through its
    /// own `pod_security`, when weakened alone from the restricted preset,
    /// and reads the change as weaker. A control added to `built_from` (or
    /// renamed) without a hook fails here.
    #[test]
    fn every_control_the_user_pod_level_is_built_from_caps_it_when_weakened() {
        type Weaken = fn(&mut Policy);
        let weaken: &[(&str, Weaken)] = &[
            ("cloud-metadata", |p| {
                p.spec.cloud_metadata.mode = MetadataMode::Iptables
            }),
            ("run-as-non-root", |p| {
                p.spec.user_pods.run_as_non_root = false
            }),
            ("privilege-escalation", |p| {
                p.spec.user_pods.allow_privilege_escalation = true
            }),
            ("capabilities", |p| {
                p.spec.user_pods.capabilities = Capabilities::RuntimeDefault
            }),
            ("seccomp", |p| p.spec.user_pods.seccomp = Profile::Unset),
        ];
        let built = super::super::pod_level::UserPodLevel.built_from();
        assert_eq!(
            weaken.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            built.to_vec()
        );
        let base = load(&Input::Preset("restricted".into())).unwrap().policy;
        assert_eq!(implied_level(&base), (PsaLevel::Restricted, Vec::new()));
        for (id, f) in weaken {
            let c = by_id(id).unwrap_or_else(|| panic!("no control `{id}`"));
            let mut p = base.clone();
            f(&mut p);
            assert!(c.pod_security(&p).is_some(), "{id}: weakened, caps nothing");
            assert_ne!(implied_level(&p).0, PsaLevel::Restricted, "{id}");
            assert!(
                judge::weaker(c.def(), &c.selected(&base), &c.selected(&p)),
                "{id}"
            );
        }
    }

    /// Over every golden case (which between them select every setting of
    /// every control), on both chart lines: a control that caps the level
    /// is one the user pods' level is built from, or is listed above with
    /// the reason it is not; and each of those caps it somewhere.
    #[test]
    fn every_control_that_caps_the_level_is_built_from_or_excused() {
        let built = super::super::pod_level::UserPodLevel.built_from();
        let mut capping = std::collections::BTreeSet::new();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
        for case in std::fs::read_dir(dir).unwrap() {
            let file = case.unwrap().path().join("policy.yaml");
            if !file.is_file() {
                continue;
            }
            let Ok(loaded) = load(&Input::File(file)) else {
                continue;
            };
            for chart in ["3.3.8", "4.4.0"] {
                let mut p = loaded.policy.clone();
                p.chart = chart.into();
                for c in ALL.iter().filter(|c| c.pod_security(&p).is_some()) {
                    let id = c.def().id;
                    assert!(
                        built.contains(&id) || NOT_BUILT_FROM.iter().any(|(x, _)| *x == id),
                        "{id} caps the Pod Security level but `user-pod-level` is not built from it"
                    );
                    capping.insert(id);
                }
            }
        }
        for id in built.iter().chain(NOT_BUILT_FROM.iter().map(|(x, _)| x)) {
            assert!(
                capping.contains(id),
                "{id} caps the level in no golden case"
            );
        }
    }
}

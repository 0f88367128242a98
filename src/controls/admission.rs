//! Admission control of user pods: a ValidatingAdmissionPolicy built from
//! every control's own validations, so a pod that bypasses the values (a
//! profile override, hub Python, a hand-made pod) meets the policy at the
//! API server. This control owns the mode and the checks no other control
//! states: the pod stays out of the node's namespaces and file system.

use serde_json::Value;

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::admission::{self, Target, Validation};
use crate::controls::lowering::Lowering;
use crate::plan::{Group, Selected};
use crate::policy::{AdmissionMode, Policy};

pub struct AdmissionControl;

static DENY: Setting = Setting {
    name: "deny",
    rank: 0,
    summary: "a ValidatingAdmissionPolicy (Kubernetes ≥ 1.30) refuses a violating pod",
};
static WARN: Setting = Setting {
    name: "warn",
    rank: 1,
    summary: "the pod is admitted; the client is shown each violation",
};
static AUDIT: Setting = Setting {
    name: "audit",
    rank: 2,
    summary: "the pod is admitted; violations go to the API server's audit log",
};
static OFF: Setting = Setting {
    name: "off",
    rank: 3,
    summary: "no admission policy",
};

static DEF: ControlDef = ControlDef {
    id: "admission",
    title: "Admission control of user pods",
    field: "/spec/admission/mode",
    rationale: "Helm values shape only the pods the chart's configuration builds; a profile override, Python in \
        hub.extraConfig, a hook or another chart can build any pod. A ValidatingAdmissionPolicy holds every pod \
        to the policy where it is created.",
    settings: &[&DENY, &WARN, &AUDIT, &OFF],
    values_keys: &[],
    read_only_keys: &[],
    spawner_traits: &[],
};

const MODES: [AdmissionMode; 4] = [
    AdmissionMode::Deny,
    AdmissionMode::Warn,
    AdmissionMode::Audit,
    AdmissionMode::Off,
];

/// The setting of each mode.
fn setting(mode: AdmissionMode) -> &'static Setting {
    match mode {
        AdmissionMode::Deny => &DENY,
        AdmissionMode::Warn => &WARN,
        AdmissionMode::Audit => &AUDIT,
        AdmissionMode::Off => &OFF,
    }
}

/// No host namespace, no host directory: nothing in the chart's user pods
/// uses them, and each hands the pod part of the node.
fn host_isolation(target: Target, field: &'static str) -> Vec<Validation> {
    let namespaces = ["hostNetwork", "hostPID", "hostIPC"]
        .iter()
        .map(|f| format!("!(has(object.spec.{f}) && object.spec.{f} == true)"))
        .collect::<Vec<_>>()
        .join(" && ");
    let host_path =
        "!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.hostPath))".to_string();
    let make = |field: &'static str, rule: &str, expression: String| Validation {
        target,
        ..Validation::user(field, rule, expression)
    };
    vec![
        make(
            field,
            "the pod must not use the node's network, PID or IPC namespace (hostNetwork, hostPID, hostIPC)",
            namespaces,
        ),
        make(field, "the pod must not mount a hostPath volume", host_path),
    ]
}

/// The strongest `validationActions` of the bindings that reach user pods.
fn bound_actions(manifests: &[Value]) -> &'static Setting {
    let pod_policies: Vec<&str> = manifests
        .iter()
        .filter(|m| m["kind"] == "ValidatingAdmissionPolicy")
        .filter(|m| {
            m.pointer("/spec/matchConstraints/resourceRules")
                .and_then(Value::as_array)
                .is_some_and(|rules| {
                    rules.iter().any(|r| {
                        r["resources"]
                            .as_array()
                            .is_some_and(|rs| rs.iter().any(|x| x == "pods" || x == "*"))
                    })
                })
        })
        .filter_map(|m| m.pointer("/metadata/name").and_then(Value::as_str))
        .collect();
    manifests
        .iter()
        .filter(|m| m["kind"] == "ValidatingAdmissionPolicyBinding")
        .filter(|b| {
            b.pointer("/spec/policyName")
                .and_then(Value::as_str)
                .is_some_and(|n| pod_policies.contains(&n))
                && reaches_user_pods(b.pointer("/spec/matchResources/objectSelector"))
        })
        .map(|b| {
            let actions = b
                .pointer("/spec/validationActions")
                .and_then(Value::as_array);
            let has = |a: &str| actions.is_some_and(|l| l.iter().any(|x| x == a));
            if has("Deny") {
                &DENY
            } else if has("Warn") {
                &WARN
            } else if has("Audit") {
                &AUDIT
            } else {
                &OFF
            }
        })
        .min_by_key(|s| s.rank)
        .unwrap_or(&OFF)
}

/// An object selector that user servers (`component: singleuser-server`) pass.
fn reaches_user_pods(sel: Option<&Value>) -> bool {
    let Some(sel) = sel.filter(|s| s.as_object().is_some_and(|m| !m.is_empty())) else {
        return true;
    };
    let labels = sel.get("matchLabels").and_then(Value::as_object);
    let by_labels = labels.is_none_or(|l| {
        l.iter()
            .all(|(k, v)| k == "component" && v == admission::USER_POD_COMPONENT)
    });
    let by_exprs = sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .is_none_or(|es| {
            es.iter().all(|e| {
                e["key"] == "component"
                    && e["operator"] == "In"
                    && e["values"]
                        .as_array()
                        .is_some_and(|v| v.iter().any(|x| x == admission::USER_POD_COMPONENT))
            })
        });
    by_labels && by_exprs
}

impl Control for AdmissionControl {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn selected(&self, p: &Policy) -> Selected {
        setting(p.spec.admission.mode).selected()
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let mode = p.spec.admission.mode;
        if mode == AdmissionMode::Off {
            cx.warn(
                DEF.field,
                "pods built outside the values (profile overrides, hub Python, other charts) are not checked when they are created",
                "set `admission.mode: warn` to see violations, `deny` to refuse them",
            );
            return;
        }
        let Some(ctx) = admission::context(p) else {
            return;
        };
        cx.manifest_with_comment(
            Group::Admission,
            "admission.yaml",
            ctx,
            Some(admission::comment_for(p)),
        );
        if cx.k8s_minor < 30 {
            cx.warn(
                DEF.field,
                "ValidatingAdmissionPolicy is GA (admissionregistration.k8s.io/v1) from Kubernetes 1.30; older API servers refuse manifests/admission.yaml",
                "set `admission.mode: off` until the cluster runs 1.30",
            );
        }
        match mode {
            AdmissionMode::Warn => cx.warn(
                DEF.field,
                "a pod that breaks the policy is admitted; the client sees a warning",
                "set `admission.mode: deny` once the warnings are gone",
            ),
            AdmissionMode::Audit => cx.warn(
                DEF.field,
                "a pod that breaks the policy is admitted and only recorded in the API server's audit log",
                "set `admission.mode: warn` or `deny`",
            ),
            _ => {}
        }
        cx.note(
            DEF.field,
            "apply manifests/admission.yaml before the hub spawns servers; `failurePolicy: Fail`: an expression the API server cannot evaluate counts as a violation, handled by the mode like any other, so no user pod is admitted unchecked",
        );
    }
    fn admission(&self, _p: &Policy) -> Vec<Validation> {
        host_isolation(Target::UserPods, DEF.field)
    }
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        match v.manifests {
            None => ReadBack::CannotVerify {
                reason: "admission policies are manifests, not Helm values (pass manifests/admission.yaml with --manifests)".into(),
            },
            Some(ms) => ReadBack::Setting(bound_actions(ms).selected()),
        }
    }
    fn parameters(&self, p: &Policy, v: &ValuesView) -> Vec<String> {
        let present: Vec<&str> = v
            .manifests
            .unwrap_or_default()
            .iter()
            .filter(|m| m["kind"] == "ValidatingAdmissionPolicy")
            .flat_map(|m| {
                m.pointer("/spec/validations")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            })
            .filter_map(|x| x["expression"].as_str())
            .collect();
        if p.spec.admission.mode == AdmissionMode::Off || v.manifests.is_none() {
            return Vec::new();
        }
        admission::validations(p)
            .iter()
            .filter(|s| !present.contains(&s.validation.expression.as_str()))
            .map(|s| format!("the admission policy does not check `{}`", s.message()))
            .collect()
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        if let Some(got) = super::read_setting(self, v) {
            p.spec.admission.mode =
                super::value_of(&MODES, setting, &got).unwrap_or(AdmissionMode::Off);
        }
        Vec::new()
    }
}

/// The host checks for chart pods, stated by the control that hardens them.
pub(super) fn chart_host_isolation(field: &'static str) -> Vec<Validation> {
    host_isolation(Target::ChartPods, field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_bindings_that_reach_user_pods_count() {
        let vap = json!({"kind": "ValidatingAdmissionPolicy", "metadata": {"name": "p"},
            "spec": {"matchConstraints": {"resourceRules": [{"resources": ["pods"]}]}}});
        let bind = |actions: Value, sel: Value| {
            json!({"kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": "b"}, "spec": {"policyName": "p", "validationActions": actions,
            "matchResources": {"objectSelector": sel}}})
        };
        let chart = json!({"matchExpressions": [{"key": "component", "operator": "In", "values": ["hub"]}]});
        let user = json!({"matchLabels": {"component": "singleuser-server"}});
        assert_eq!(
            bound_actions(&[vap.clone(), bind(json!(["Deny"]), chart.clone())]).name,
            "off"
        );
        assert_eq!(
            bound_actions(&[vap.clone(), bind(json!(["Warn"]), user.clone())]).name,
            "warn"
        );
        assert_eq!(
            bound_actions(&[vap.clone(), bind(json!(["Audit"]), json!({}))]).name,
            "audit"
        );
        assert_eq!(bound_actions(&[bind(json!(["Deny"]), user)]).name, "off");
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

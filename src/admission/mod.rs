//! Admission control: the ValidatingAdmissionPolicy objects the controls'
//! own validations compile to. Each control states its CEL next to its
//! other facts ([`Control::admission`](crate::controls::Control::admission));
//! this module gathers them in control order, names every message after
//! its control and policy field, and lays out the objects' data.

pub mod cel;

use serde::Serialize;
use serde_json::{Value, json};

use crate::controls::{ALL, ControlDef};
use crate::policy::{AdmissionMode, ApiAccessMode, Policy};
use crate::validate::schema_check::dotted;

/// The pods a validation is asked of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// The user servers the hub spawns (and, with `pod-creator`, every pod
    /// in the workload namespace).
    UserPods,
    /// The chart's own pods: hub, proxy, autohttps, scheduler, placeholders, pullers.
    ChartPods,
}

/// One CEL check of a pod, as a control states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    pub target: Target,
    /// JSON pointer of the policy field the check enforces.
    pub field: &'static str,
    /// What every pod must do, in words (the message's second half).
    pub rule: String,
    /// CEL over `object` (the Pod) and `request`.
    pub expression: String,
}

impl Validation {
    pub fn user(field: &'static str, rule: impl Into<String>, expression: String) -> Validation {
        Validation {
            target: Target::UserPods,
            field,
            rule: rule.into(),
            expression,
        }
    }
    pub fn chart(field: &'static str, rule: impl Into<String>, expression: String) -> Validation {
        Validation {
            target: Target::ChartPods,
            ..Validation::user(field, rule, expression)
        }
    }
}

/// A validation with the control that states it.
#[derive(Debug, Clone)]
pub struct Stated {
    pub control: &'static ControlDef,
    pub validation: Validation,
}

impl Stated {
    /// `control-id (spec.field): rule` — what a refused client is shown.
    pub fn message(&self) -> String {
        format!(
            "{} ({}): {}",
            self.control.id,
            dotted(self.validation.field),
            self.validation.rule
        )
    }
}

/// Every validation the policy asks for, in control order.
pub fn validations(p: &Policy) -> Vec<Stated> {
    ALL.iter()
        .flat_map(|c| {
            c.admission(p).into_iter().map(|validation| Stated {
                control: c.def(),
                validation,
            })
        })
        .collect()
}

/// Controls with a part no pod spec shows, and why.
pub fn not_checked() -> Vec<(&'static ControlDef, &'static str)> {
    ALL.iter()
        .filter_map(|c| c.admission_gap().map(|why| (c.def(), why)))
        .collect()
}

/// `validationActions` of a mode; `None` for `off`.
pub fn actions(mode: AdmissionMode) -> Option<&'static str> {
    match mode {
        AdmissionMode::Deny => Some("Deny"),
        AdmissionMode::Warn => Some("Warn"),
        AdmissionMode::Audit => Some("Audit"),
        AdmissionMode::Off => None,
    }
}

/// The label the chart puts on user servers (KubeSpawner's component label).
pub const USER_POD_COMPONENT: &str = "singleuser-server";

/// The `component` labels of the chart's own pods.
pub const CHART_POD_COMPONENTS: &[&str] = &[
    "hub",
    "proxy",
    "autohttps",
    "user-scheduler",
    "user-placeholder",
    "hook-image-puller",
    "continuous-image-puller",
    "hook-image-awaiter",
];

/// Object names: admission objects are cluster-scoped, so the hub's
/// namespace is part of the name.
pub fn object_name(p: &Policy, what: &str) -> String {
    format!("{}.{}.{what}", p.metadata.name, p.metadata.namespace)
}

fn namespace_is(ns: &str) -> Value {
    json!({"matchLabels": {"kubernetes.io/metadata.name": ns}})
}

/// Pod creation, and ephemeral containers added to a running pod.
fn match_constraints() -> Value {
    json!({"resourceRules": [
        {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]},
        {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": ["pods/ephemeralcontainers"]},
    ]})
}

/// The data `templates/admission.yaml` renders; `None` when the mode is
/// `off` or nothing is asked of any pod.
pub fn context(p: &Policy) -> Option<Value> {
    let actions = actions(p.spec.admission.mode)?;
    let all = validations(p);
    let of = |t: Target| -> Vec<Value> {
        all.iter()
            .filter(|s| s.validation.target == t)
            .map(|s| json!({"expression": s.validation.expression, "message": s.message()}))
            .collect()
    };
    let ns = &p.metadata.namespace;
    let mut policies = Vec::new();
    let user = of(Target::UserPods);
    if !user.is_empty() {
        let mut bindings = vec![json!({
            "name": object_name(p, "user-pods"),
            "match": {
                "namespaceSelector": namespace_is(ns),
                "objectSelector": {"matchLabels": {"component": USER_POD_COMPONENT}},
            },
        })];
        // Pods users create through the API bypass the hub entirely: every
        // pod in the workload namespace is held to the user-pod rules.
        if p.spec.api_access.mode == ApiAccessMode::PodCreator
            && let Some(pc) = &p.spec.api_access.pod_creator
        {
            bindings.push(json!({
                "name": object_name(p, "workload-pods"),
                "match": {"namespaceSelector": namespace_is(&pc.workload_namespace)},
            }));
        }
        policies.push(json!({
            "name": object_name(p, "user-pods"),
            "validations": user,
            "bindings": bindings,
        }));
    }
    let chart = of(Target::ChartPods);
    if !chart.is_empty() {
        policies.push(json!({
            "name": object_name(p, "chart-pods"),
            "validations": chart,
            "bindings": [{
                "name": object_name(p, "chart-pods"),
                "match": {
                    "namespaceSelector": namespace_is(ns),
                    "objectSelector": {"matchExpressions": [
                        {"key": "component", "operator": "In", "values": CHART_POD_COMPONENTS},
                    ]},
                },
            }],
        }));
    }
    if policies.is_empty() {
        return None;
    }
    Some(json!({
        "hub": p.metadata.name,
        "actions": [actions],
        "match_constraints": match_constraints(),
        "policies": policies,
    }))
}

/// The comment written above the objects: what they do not check.
pub fn comment() -> String {
    let mut out = String::from(
        "Not checked at admission (a pod spec does not show it; other manifests and the values enforce it):\n",
    );
    for (def, why) in not_checked() {
        out.push_str(&format!("- {} ({}): {why}\n", def.id, def.dotted_field()));
    }
    out
}

//! Admission control: the ValidatingAdmissionPolicy objects the controls'
//! own validations compile to. Each control states its CEL next to its
//! other facts ([`Control::admission`](crate::controls::Control::admission));
//! this module gathers them in control order, names every message after
//! its control and policy field, and lays out the objects' data.

pub mod cel;

use serde::Serialize;
use serde_json::{Value, json};

use crate::controls::{ALL, ControlDef};
use crate::exceptions;
use crate::paths::dotted;
use crate::policy::{AdmissionMode, ApiAccessMode, Policy};

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

/// Every validation the policy asks for, in control order. The policy's
/// exceptions (whatever the date: an expired one stops `compile`) narrow
/// them: a hub-wide exception leaves its control's validations out (see
/// [`comment_for`]); a profile-scoped one lets that profile's pods pass the
/// control's user-pod validations when they carry the profile label
/// ([`crate::exceptions::PROFILE_LABEL`]) in the hub's namespace.
pub fn validations(p: &Policy) -> Vec<Stated> {
    ALL.iter()
        .flat_map(|c| {
            let def = c.def();
            if !exceptions::hub_wide(p, def.id).is_empty() {
                return Vec::new();
            }
            let profiles: Vec<String> = exceptions::for_profiles(p, def.id)
                .iter()
                .filter_map(|l| l.profile().map(str::to_string))
                .collect();
            c.admission(p)
                .into_iter()
                .map(|mut validation| {
                    if validation.target == Target::UserPods && !profiles.is_empty() {
                        validation.expression =
                            excepting(&profiles, &p.metadata.namespace, &validation.expression);
                    }
                    Stated {
                        control: def,
                        validation,
                    }
                })
                .collect()
        })
        .collect()
}

/// `expression`, or a pod of one of `profiles`: labelled so by the profile's
/// `kubespawner_override.extra_labels`, in the hub's namespace. Only the hub
/// creates pods there (users with `pod-creator` create theirs in the
/// workload namespace, where a label they choose must not exempt them).
fn excepting(profiles: &[String], namespace: &str, expression: &str) -> String {
    let label = cel::string(exceptions::PROFILE_LABEL);
    format!(
        "(request.namespace == {ns} && has(object.metadata.labels) && {label} in object.metadata.labels && object.metadata.labels[{label}] in {slugs}) || ({expression})",
        ns = cel::string(namespace),
        slugs = cel::strings(profiles),
    )
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

/// [`comment`], plus the policy's exceptions and what each does here.
pub fn comment_for(p: &Policy) -> String {
    let mut out = comment();
    let listed = exceptions::listed(p);
    let pod_checked: Vec<_> = listed
        .iter()
        .filter(|l| {
            crate::controls::by_id(l.def.id)
                .is_some_and(|c| c.admission(p).iter().any(|v| v.target == Target::UserPods))
        })
        .collect();
    if pod_checked.is_empty() {
        return out;
    }
    out.push_str("Exceptions of the policy:\n");
    for l in pod_checked {
        let effect = match l.profile() {
            None => "its validations are left out".to_string(),
            Some(slug) => format!(
                "pods labelled {}={slug} in namespace {} skip its user-pod validations",
                exceptions::PROFILE_LABEL,
                p.metadata.namespace
            ),
        };
        out.push_str(&format!(
            "- {} for {} (owner {}, until {}): {effect}\n",
            l.def.id,
            l.scope_label(),
            l.exception.owner,
            l.expires
        ));
    }
    out
}

//! Stage 4 — render: turn a [`Plan`] into data — the values tree and one
//! object per manifest — still without any text layout.
//!
//! Manifest templates run with JSON auto-escaping for every `{{ … }}`, so a
//! policy string is always emitted as one quoted scalar and can never add a
//! key, a document or a template expression; the result is parsed back and
//! checked before it is accepted.

mod templates;

use serde::Serialize;
use serde_json::{Value, json};

use crate::diag::Diagnostic;
use crate::plan::{Group, Origin, Plan};
use crate::values;

/// One rendered Kubernetes object.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub group: Group,
    pub object: Value,
    pub origin: Origin,
    /// Comment lines for the file, above this object (the first of its request only).
    #[serde(skip)]
    pub comment: Option<String>,
}

impl Manifest {
    /// `Kind/name` (namespaced objects: `Kind/namespace/name`), for messages and explain.
    pub fn id(&self) -> String {
        let kind = self.object["kind"].as_str().unwrap_or("?");
        let name = self
            .object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("?");
        match self
            .object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
        {
            Some(ns) => format!("{kind}/{ns}/{name}"),
            None => format!("{kind}/{name}"),
        }
    }
}

/// Values and manifests as data.
#[derive(Debug, Clone, Serialize)]
pub struct Rendered {
    pub values: Value,
    pub manifests: Vec<Manifest>,
}

impl Rendered {
    pub fn manifest_objects(&self) -> Vec<Value> {
        self.manifests.iter().map(|m| m.object.clone()).collect()
    }
}

/// Renders a plan without errors.
pub fn render(plan: &Plan) -> Result<Rendered, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let values = build_values(plan, &mut errors);
    let mut manifests = Vec::new();
    for req in &plan.manifests {
        match templates::render(req.template, &req.context) {
            Ok(objects) => {
                manifests.extend(objects.into_iter().enumerate().map(|(i, object)| Manifest {
                    group: req.group,
                    object,
                    origin: req.origin.clone(),
                    comment: if i == 0 { req.comment.clone() } else { None },
                }))
            }
            Err(e) => errors.push(
                Diagnostic::error(format!("template `{}`: {e}", req.template))
                    .help("this is a bug in z2jh-policy; please report it with the policy"),
            ),
        }
    }
    // Same kind, namespace and name twice would make `kubectl apply` fight itself.
    let mut ids: Vec<String> = manifests.iter().map(Manifest::id).collect();
    ids.sort();
    for pair in ids.windows(2) {
        if pair[0] == pair[1] {
            errors.push(
                Diagnostic::error(format!("two manifests are both `{}`", pair[0]))
                    .help("give the objects different names in the policy"),
            );
        }
    }
    if errors.is_empty() {
        Ok(Rendered { values, manifests })
    } else {
        Err(errors)
    }
}

fn build_values(plan: &Plan, errors: &mut Vec<Diagnostic>) -> Value {
    let mut root = json!({});
    for entry in &plan.values {
        let ok = if entry.append {
            match values::get(
                &root,
                &entry.path.iter().map(String::as_str).collect::<Vec<_>>(),
            )
            .cloned()
            {
                Some(Value::Array(mut items)) => {
                    items.push(entry.value.clone());
                    values::set(&mut root, &entry.path, Value::Array(items))
                }
                Some(_) => false,
                None => values::set(
                    &mut root,
                    &entry.path,
                    Value::Array(vec![entry.value.clone()]),
                ),
            }
        } else {
            values::set(&mut root, &entry.path, entry.value.clone())
        };
        if !ok {
            errors.push(
                Diagnostic::error(format!(
                    "`{}` conflicts with another value",
                    entry.path.join(".")
                ))
                .help("this is a bug in z2jh-policy; please report it with the policy"),
            );
        }
    }
    root
}

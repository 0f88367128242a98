//! The manifest templates in `templates/`, compiled into the binary.

use std::sync::OnceLock;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::Value;

use crate::yaml;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "hub-namespace.yaml",
        include_str!("../../templates/hub-namespace.yaml"),
    ),
    (
        "workload-namespace.yaml",
        include_str!("../../templates/workload-namespace.yaml"),
    ),
    (
        "pod-creator-rbac.yaml",
        include_str!("../../templates/pod-creator-rbac.yaml"),
    ),
    (
        "workload-identity.yaml",
        include_str!("../../templates/workload-identity.yaml"),
    ),
    (
        "workload-network.yaml",
        include_str!("../../templates/workload-network.yaml"),
    ),
    (
        "storage-class.yaml",
        include_str!("../../templates/storage-class.yaml"),
    ),
    (
        "nfs-shared.yaml",
        include_str!("../../templates/nfs-shared.yaml"),
    ),
    ("quota.yaml", include_str!("../../templates/quota.yaml")),
    ("mesh.yaml", include_str!("../../templates/mesh.yaml")),
    (
        "runtime-class.yaml",
        include_str!("../../templates/runtime-class.yaml"),
    ),
    (
        "admission.yaml",
        include_str!("../../templates/admission.yaml"),
    ),
    (
        "cilium-egress-hosts.yaml",
        include_str!("../../templates/cilium-egress-hosts.yaml"),
    ),
    (
        "chart-pods-deny-all.yaml",
        include_str!("../../templates/chart-pods-deny-all.yaml"),
    ),
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // Every interpolation is JSON-encoded: valid YAML flow, never raw text.
        env.set_auto_escape_callback(|_| AutoEscape::Json);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, src) in TEMPLATES {
            env.add_template(name, src)
                .unwrap_or_else(|e| panic!("built-in template {name} does not compile: {e}"));
        }
        env
    })
}

/// Renders a template and parses its documents back into objects.
pub fn render(name: &str, ctx: &Value) -> Result<Vec<Value>, String> {
    let tmpl = env().get_template(name).map_err(|e| e.to_string())?;
    let text = tmpl
        .render(minijinja::value::Serde(ctx))
        .map_err(|e| e.to_string())?;
    let docs = yaml::parse_stream(&text).map_err(|e| format!("rendered text is not YAML: {e}"))?;
    for d in &docs {
        let ok = d.get("apiVersion").and_then(Value::as_str).is_some()
            && d.get("kind").and_then(Value::as_str).is_some()
            && d.pointer("/metadata/name")
                .and_then(Value::as_str)
                .is_some();
        if !ok {
            return Err("rendered a document without apiVersion, kind and metadata.name".into());
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hostile_strings_stay_scalars() {
        let evil = "x\"\n---\nkind: Secret\nmetadata: {name: pwned}\n{{ 7*7 }} #: ";
        let ctx = json!({"hub": evil, "namespace": "jhub", "labels": {"a": evil}, "annotations": {evil: evil}});
        let docs = render("hub-namespace.yaml", &ctx).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0]["metadata"]["labels"]["a"], json!(evil));
        assert_eq!(docs[0]["metadata"]["annotations"][evil], json!(evil));
    }
}

//! The JSON Schema of the policy language, derived from the model types.
//!
//! Two forms: the *complete* schema (a merged policy: every section present)
//! and the *file* schema (one file in an `extends` chain: sections optional,
//! list items and one-of choices still complete). The file schema is what
//! `z2jh-policy schema` prints for editors.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::model::Policy;

pub const SCHEMA_ID: &str = "urn:z2jh-policy:schema:v1:policy";

/// The schema of a complete (merged) policy.
pub fn complete() -> &'static Value {
    static S: OnceLock<Value> = OnceLock::new();
    S.get_or_init(|| {
        let schema = schemars::generate::SchemaSettings::draft07()
            .into_generator()
            .into_root_schema_for::<Policy>();
        let mut v = schema.to_value();
        strip_null(&mut v);
        v
    })
}

/// The published schema (`schema/policy.schema.json`), compiled in.
const PUBLISHED: &str = include_str!("../../schema/policy.schema.json");

/// The schema of one policy file, as published for editors.
///
/// Read from the published copy: parsing it costs a third of deriving it
/// from the model types, and every `compile` process needs it. `tests/it/docs.rs`
/// fails when the copy differs from [`derived_file`].
pub fn file() -> &'static Value {
    static S: OnceLock<Value> = OnceLock::new();
    S.get_or_init(|| serde_json::from_str(PUBLISHED).unwrap_or_else(|_| derived_file()))
}

/// The file schema derived from the model types (what `file` must equal).
pub fn derived_file() -> Value {
    let mut v = complete().clone();
    let keep = defs_needing_required(&v);
    if let Some(defs) = v.get_mut("definitions").and_then(Value::as_object_mut) {
        for (name, def) in defs.iter_mut() {
            if !keep.contains(name) && name != "Metadata" {
                strip_required(def);
            }
        }
    }
    if let Some(obj) = v.as_object_mut() {
        obj.insert("$id".into(), json!(SCHEMA_ID));
        obj.insert("required".into(), json!(["apiVersion", "kind", "metadata"]));
        obj.insert(
                "description".into(),
                json!("A z2jh-policy HubPolicy file. Sections left out come from the policy named by `extends` (default: the `baseline` preset)."),
            );
    }
    v
}

/// `Option` fields mean "may be left out", never "may be null": drop the
/// null alternative so errors inside them point at the real problem.
fn strip_null(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let t = types[0].clone();
                    map.insert("type".into(), t);
                }
            }
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(alts)) = map.get_mut(key) {
                    alts.retain(|a| {
                        a.get("type").is_none_or(|t| t != "null")
                            || a.as_object().is_some_and(|o| o.len() > 1)
                    });
                    if alts.len() == 1 {
                        let only = alts.remove(0);
                        map.remove(key);
                        if let Value::Object(o) = only {
                            for (k, val) in o {
                                map.entry(k).or_insert(val);
                            }
                        }
                    }
                }
            }
            map.values_mut().for_each(strip_null);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}

/// Definitions reached through `items`, `oneOf` or `anyOf`: a list element
/// or a choice is always written whole, so it keeps its `required` keys.
fn defs_needing_required(schema: &Value) -> BTreeSet<String> {
    let mut keep = BTreeSet::new();
    collect_refs(schema, false, &mut keep);
    if let Some(defs) = schema.get("definitions").and_then(Value::as_object) {
        defs.values()
            .for_each(|d| collect_refs(d, false, &mut keep));
    }
    // Follow references out of kept definitions until nothing new appears.
    loop {
        let before = keep.len();
        for name in keep.clone() {
            if let Some(def) = schema.pointer(&format!("/definitions/{name}")) {
                collect_refs(def, true, &mut keep);
            }
        }
        if keep.len() == before {
            return keep;
        }
    }
}

fn collect_refs(v: &Value, inside: bool, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            if inside
                && let Some(Value::String(r)) = map.get("$ref")
                && let Some(name) = r.strip_prefix("#/definitions/")
            {
                out.insert(name.to_string());
            }
            for (k, child) in map {
                if k == "definitions" {
                    continue;
                }
                let inside = inside || matches!(k.as_str(), "items" | "oneOf" | "anyOf");
                collect_refs(child, inside, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, inside, out)),
        _ => {}
    }
}

fn strip_required(v: &mut Value) {
    if let Value::Object(map) = v {
        map.remove("required");
        if let Some(Value::Object(props)) = map.get_mut("properties") {
            props.values_mut().for_each(strip_required);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_published() {
        let s = serde_json::to_string(file()).unwrap();
        assert!(s.contains("\"format\":\"cidr\""));
        assert!(s.contains("\"format\":\"k8s-name\""));
    }

    #[test]
    fn file_schema_relaxes_sections_but_not_list_items() {
        let f = file();
        assert!(f.pointer("/definitions/Spec/required").is_none());
        assert!(f.pointer("/definitions/EgressRule/required").is_some());
        assert!(f.pointer("/definitions/Metadata/required").is_some());
        assert!(complete().pointer("/definitions/Spec/required").is_some());
    }
}

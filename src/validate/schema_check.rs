//! Checks a YAML document against a JSON Schema and turns every violation
//! into a located diagnostic that says what was expected.
//!
//! Used for policy files (against the policy schema, with our custom
//! formats) and for values files (against a chart's `values.schema.json`).

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use super::formats::FORMATS;
use crate::diag::{Diagnostic, Loc, suggest};
use crate::paths::{dotted, escape_pointer, pointer_keys};
use crate::yaml::Doc;

/// Builds a validator with our custom formats registered.
pub fn validator(schema: &Value) -> Result<jsonschema::Validator, String> {
    let mut opts = jsonschema::options().should_validate_formats(true);
    for (name, check) in FORMATS {
        let check = *check;
        opts = opts.with_format(*name, move |s: &str| check(s).is_ok());
    }
    opts.build(schema)
        .map_err(|e| format!("invalid schema: {e}"))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let s: String = s.chars().flat_map(char::escape_default).collect();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// The schema node that describes the instance at `pointer`.
fn schema_at<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    let mut node = resolve(root, root);
    for seg in pointer_keys(pointer) {
        node = if let Some(p) = node.get("properties").and_then(|p| p.get(seg.as_ref())) {
            resolve(root, p)
        } else if let Some(items) = node.get("items") {
            resolve(root, items)
        } else if let Some(ap) = node.get("additionalProperties").filter(|a| a.is_object()) {
            resolve(root, ap)
        } else {
            return None;
        };
    }
    Some(node)
}

fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
                Some(target) => node = target,
                None => return node,
            },
            None => {
                // A lone `allOf: [$ref]` is how generators attach descriptions.
                match node.get("allOf").and_then(Value::as_array) {
                    Some(all) if all.len() == 1 => node = &all[0],
                    _ => return node,
                }
            }
        }
    }
    node
}

/// Describes the accepted forms of a schema node in a short phrase.
fn describe(root: &Value, node: &Value) -> String {
    let node = resolve(root, node);
    if let Some(alts) = node
        .get("oneOf")
        .or_else(|| node.get("anyOf"))
        .and_then(Value::as_array)
    {
        let alts: Vec<&Value> = alts.iter().map(|a| resolve(root, a)).collect();
        let words: Vec<String> = alts
            .iter()
            .filter_map(|a| {
                a.get("const").or_else(|| {
                    a.get("enum").and_then(|e| {
                        e.get(0)
                            .filter(|_| e.as_array().is_some_and(|x| x.len() == 1))
                    })
                })
            })
            .map(|c| format!("`{}`", short(c)))
            .collect();
        if words.len() == alts.len() {
            return format!("one of {}", words.join(", "));
        }
        let parts: Vec<String> = alts.iter().map(|a| describe(root, a)).collect();
        return parts.join(", or ");
    }
    if let Some(opts) = node.get("enum").and_then(Value::as_array) {
        let words = opts
            .iter()
            .map(|o| format!("`{}`", short(o)))
            .collect::<Vec<_>>();
        return if words.len() == 1 {
            words.join("")
        } else {
            format!("one of {}", words.join(", "))
        };
    }
    if let Some(c) = node.get("const") {
        return format!("`{}`", short(c));
    }
    if let Some(f) = node.get("format").and_then(Value::as_str)
        && let Some((_, check)) = FORMATS.iter().find(|(n, _)| *n == f)
        && let Err(expected) = check("\u{0}")
    {
        return expected;
    }
    match node.get("type").and_then(Value::as_str) {
        Some("object") => match node.get("properties").and_then(Value::as_object) {
            Some(p) if p.len() == 1 => format!(
                "`{{{}: …}}`",
                p.keys().next().map(String::as_str).unwrap_or("")
            ),
            _ => "a mapping".into(),
        },
        Some("array") => "a list".into(),
        Some("string") => "a string".into(),
        Some("integer") => "a whole number".into(),
        Some("number") => "a number".into(),
        Some("boolean") => "`true` or `false`".into(),
        _ => "a valid value".into(),
    }
}

/// Finds where the node at a JSON pointer was written; `true` asks for its key.
pub type Locate<'a> = dyn Fn(&str, bool) -> Option<Loc> + 'a;

/// Validates `doc` and returns one diagnostic per violation, in file order.
pub fn check(
    validator: &jsonschema::Validator,
    schema: &Value,
    doc: &Doc,
    file: &str,
    text: &str,
) -> Vec<Diagnostic> {
    let locate = |ptr: &str, key: bool| {
        let pos = if key {
            doc.spans.locate_key(ptr)
        } else {
            doc.spans.locate(ptr)
        };
        Some(Loc::new(file, text, pos))
    };
    check_value(validator, schema, &doc.value, &locate)
}

/// Validates a value whose source positions `locate` knows.
pub fn check_value(
    validator: &jsonschema::Validator,
    schema: &Value,
    value: &Value,
    locate: &Locate,
) -> Vec<Diagnostic> {
    // Sorted by (file, line, column) so errors read top to bottom.
    type Keyed = (Option<(String, u32, u32)>, Diagnostic);
    let mut out: Vec<Keyed> = Vec::new();
    for err in validator.iter_errors(value) {
        let ptr = err.instance_path().as_str().to_string();
        let path = dotted(&ptr);
        let instance = err.instance();
        let mut push = |loc: Option<Loc>, d: Diagnostic| {
            out.push((
                loc.as_ref().map(|l| (l.file.clone(), l.line, l.column)),
                d.at_opt(loc),
            ))
        };
        match err.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let known: Vec<String> = schema_at(schema, &ptr)
                    .and_then(|s| s.get("properties"))
                    .and_then(Value::as_object)
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                for key in unexpected {
                    let kptr = format!("{ptr}/{}", escape_pointer(key));
                    let mut d = Diagnostic::error(format!(
                        "unknown key `{}` in `{path}`",
                        short(&Value::String(key.clone()))
                    ));
                    d = match suggest(key, known.iter().map(String::as_str)) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None if !known.is_empty() => d.help(format!(
                            "expected one of: {}",
                            known
                                .iter()
                                .map(|k| format!("`{k}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                        None => d,
                    };
                    push(locate(&kptr, true), d);
                }
            }
            ValidationErrorKind::Required { property } => {
                let prop = property.as_str().unwrap_or_default();
                push(
                    locate(&ptr, true),
                    Diagnostic::error(format!("missing key `{prop}` in `{path}`")),
                );
            }
            ValidationErrorKind::Type { kind } => {
                let name = |t: String| match t.as_str() {
                    "object" => "a mapping".to_string(),
                    "array" => "a list".to_string(),
                    "integer" => "a whole number".to_string(),
                    "boolean" => "`true` or `false`".to_string(),
                    "null" => "null".to_string(),
                    other => format!("a {other}"),
                };
                let expected = match kind {
                    TypeKind::Single(t) => name(t.to_string()),
                    TypeKind::Multiple(ts) => ts
                        .iter()
                        .map(|t| name(t.to_string()))
                        .collect::<Vec<_>>()
                        .join(" or "),
                };
                push(
                    locate(&ptr, false),
                    Diagnostic::error(format!(
                        "`{path}` must be {expected}, found {} `{}`",
                        type_name(instance),
                        short(instance)
                    )),
                );
            }
            ValidationErrorKind::Enum { .. }
            | ValidationErrorKind::Constant { .. }
            | ValidationErrorKind::OneOfNotValid { .. }
            | ValidationErrorKind::AnyOf { .. } => {
                let expected = schema_at(schema, &ptr)
                    .map(|s| describe(schema, s))
                    .unwrap_or_else(|| "a valid value".into());
                let mut d =
                    Diagnostic::error(format!("`{}` is not a valid `{path}`", short(instance)));
                d = d.help(format!("expected {expected}"));
                if let Value::String(s) = instance.as_ref()
                    && let Some(opts) = schema_at(schema, &ptr)
                        .map(|n| resolve(schema, n))
                        .and_then(|n| n.get("enum"))
                        .and_then(Value::as_array)
                    && let Some(best) = suggest(s, opts.iter().filter_map(Value::as_str))
                {
                    d = d.help(format!("did you mean `{best}`? (expected {expected})"));
                }
                push(locate(&ptr, false), d);
            }
            ValidationErrorKind::Format { format } => {
                let value = instance.as_str().unwrap_or_default();
                let expected = FORMATS
                    .iter()
                    .find(|(n, _)| n == format)
                    .and_then(|(_, check)| check(value).err())
                    .unwrap_or_else(|| format!("a valid {format}"));
                push(
                    locate(&ptr, false),
                    Diagnostic::error(format!("invalid `{path}`: `{}`", short(instance)))
                        .help(format!("expected {expected}")),
                );
            }
            ValidationErrorKind::PropertyNames { error } => {
                // The inner error's instance is the offending key.
                let key = error.instance().as_str().unwrap_or_default().to_string();
                let expected = match error.kind() {
                    ValidationErrorKind::Format { format } => FORMATS
                        .iter()
                        .find(|(n, _)| n == format)
                        .and_then(|(_, check)| check(&key).err()),
                    _ => None,
                }
                .unwrap_or_else(|| error.masked().to_string());
                let kptr = format!("{ptr}/{}", escape_pointer(&key));
                push(
                    locate(&kptr, true),
                    Diagnostic::error(format!(
                        "invalid key `{}` in `{path}`",
                        short(&Value::String(key.clone()))
                    ))
                    .help(format!("expected {expected}")),
                );
            }
            other => {
                let _ = other;
                push(
                    locate(&ptr, false),
                    Diagnostic::error(format!("invalid `{path}`: {}", err.masked())),
                );
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|a, b| a.1 == b.1);
    out.into_iter().map(|(_, d)| d).collect()
}

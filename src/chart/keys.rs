//! Which values keys a chart schema accepts: a walk through `properties`,
//! honouring `additionalProperties`. Used to keep the compiler from emitting
//! a key a release does not know (Helm would refuse the whole install).

use serde_json::Value;

use super::releases::{self, Release};
use super::version::Version;

fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| root.pointer(p))
        {
            Some(target) => node = target,
            None => return node,
        }
    }
    node
}

/// What the schema says about one key under `node`.
enum Child<'a> {
    /// Described by this subschema.
    Schema(&'a Value),
    /// Allowed, with nothing more known about what is below it.
    Open,
    /// Refused (`additionalProperties: false`).
    Refused,
}

fn child<'a>(root: &'a Value, node: &'a Value, key: &str) -> Child<'a> {
    let node = resolve(root, node);
    if let Some(s) = node.get("properties").and_then(|p| p.get(key)) {
        return Child::Schema(resolve(root, s));
    }
    if node.get("patternProperties").is_some() {
        // Patterns are not evaluated here; the full validator judges them.
        return Child::Open;
    }
    match node.get("additionalProperties") {
        Some(Value::Bool(false)) => Child::Refused,
        Some(s @ Value::Object(_)) => Child::Schema(resolve(root, s)),
        _ => Child::Open,
    }
}

/// The first key path under `path` (itself or inside `value`) the schema
/// refuses; `None` when every key is accepted.
pub fn refused(schema: &Value, path: &[String], value: &Value) -> Option<Vec<String>> {
    let mut node = schema;
    for (i, key) in path.iter().enumerate() {
        match child(schema, node, key) {
            Child::Schema(s) => node = s,
            Child::Open => return None,
            Child::Refused => return Some(path[..=i].to_vec()),
        }
    }
    refused_inside(schema, node, value, path.to_vec())
}

fn refused_inside(
    root: &Value,
    node: &Value,
    value: &Value,
    at: Vec<String>,
) -> Option<Vec<String>> {
    let Value::Object(map) = value else {
        return None;
    };
    for (k, v) in map {
        let mut here = at.clone();
        here.push(k.clone());
        match child(root, node, k) {
            Child::Schema(s) => {
                if let Some(r) = refused_inside(root, s, v, here) {
                    return Some(r);
                }
            }
            Child::Open => {}
            Child::Refused => return Some(here),
        }
    }
    None
}

/// Whether `release` accepts every key of `value` at `path`.
pub fn accepts(release: &Release, path: &[String], value: &Value) -> bool {
    refused(release.schema(), path, value).is_none()
}

/// The release nearest to `from` that accepts the keys: the first newer
/// release that does, else the newest older one.
pub fn nearest_accepting(
    from: Version,
    path: &[String],
    value: &Value,
) -> Option<&'static Release> {
    let all = releases::all();
    all.iter()
        .find(|r| r.number() > from && accepts(r, path, value))
        .or_else(|| {
            all.iter()
                .rev()
                .find(|r| r.number() < from && accepts(r, path, value))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::releases::find;
    use serde_json::json;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(str::to_string).collect()
    }

    #[test]
    fn placeholder_pod_spec_arrives_in_4_1_0() {
        let p = path("scheduling.userPlaceholder.extraPodSpec");
        let v = json!({"securityContext": {"runAsNonRoot": true}});
        assert!(!accepts(find("4.0.0").unwrap(), &p, &v));
        assert!(!accepts(find("3.3.8").unwrap(), &p, &v));
        assert!(accepts(find("4.1.0").unwrap(), &p, &v));
        let from = Version::parse("4.0.0").unwrap();
        assert_eq!(nearest_accepting(from, &p, &v).unwrap().version, "4.1.0");
    }

    #[test]
    fn nested_unknown_keys_are_found() {
        let schema = find("4.4.0").unwrap().schema();
        let got = refused(
            schema,
            &path("hub"),
            &json!({"image": {"name": "x", "tga": "y"}}),
        );
        assert_eq!(got, Some(path("hub.image.tga")));
        // Free-form maps (annotations, extraConfig) take any key.
        assert_eq!(
            refused(schema, &path("hub.annotations.a/b"), &json!("c")),
            None
        );
    }
}

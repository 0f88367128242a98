//! Helm values as data: Helm's merge rules and path look-ups.
//!
//! Helm merges user values over the chart's defaults: mappings merge key by
//! key, lists and scalars replace, and `null` deletes the default.

use serde_json::{Map, Value};

/// Merges `over` into `base` with Helm's rules.
pub fn helm_merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => merge_maps(b, o),
        (b, o) => *b = strip_nulls(o),
    }
}

fn merge_maps(base: &mut Map<String, Value>, over: &Map<String, Value>) {
    for (k, v) in over {
        if v.is_null() {
            base.remove(k);
            continue;
        }
        match base.get_mut(k) {
            Some(existing @ Value::Object(_)) if v.is_object() => helm_merge(existing, v),
            _ => {
                base.insert(k.clone(), strip_nulls(v));
            }
        }
    }
}

/// A null inside a newly added mapping also means "absent" to Helm.
fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The value at a path of keys, if present.
pub fn get<'a>(root: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(root, |node, key| node.get(*key))
}

pub fn get_bool(root: &Value, path: &[&str]) -> Option<bool> {
    get(root, path).and_then(Value::as_bool)
}

pub fn get_str<'a>(root: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(root, path).and_then(Value::as_str)
}

/// The strings of the list at `path` (other items skipped; none when absent).
pub fn get_strs<'a>(root: &'a Value, path: &[&str]) -> Vec<&'a str> {
    get(root, path)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// Sets a value at a path, creating mappings on the way. Returns false when
/// a non-mapping value is in the way.
pub fn set(root: &mut Value, path: &[String], value: Value) -> bool {
    let Some((last, parents)) = path.split_last() else {
        *root = value;
        return true;
    };
    let mut node = root;
    for key in parents {
        let Value::Object(map) = node else {
            return false;
        };
        node = map
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    match node {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn helm_rules() {
        let mut base = json!({"a": {"b": 1, "c": [1, 2], "d": "x"}, "e": 1});
        helm_merge(
            &mut base,
            &json!({"a": {"c": [3], "d": null, "f": {"g": null, "h": 2}}}),
        );
        assert_eq!(
            base,
            json!({"a": {"b": 1, "c": [3], "f": {"h": 2}}, "e": 1})
        );
    }

    #[test]
    fn set_creates_parents() {
        let mut v = json!({});
        assert!(set(&mut v, &["a".into(), "b.c".into()], json!(1)));
        assert_eq!(v, json!({"a": {"b.c": 1}}));
        assert!(!set(
            &mut v,
            &["a".into(), "b.c".into(), "d".into()],
            json!(1)
        ));
    }
}

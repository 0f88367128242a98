//! Whether a JSON pointer names a field of the policy language. Controls
//! point diagnostics and output origins at policy fields by pointer; one
//! that names no field loses its location silently, so the lowering
//! checks each pointer here in debug builds (every test run).

use serde_json::Value;

/// `pointer` (e.g. `/spec/egress/allow/0/cidr`) names a field, or a list
/// item or map entry, of the policy schema; `""` is the whole policy.
pub fn names_a_field(pointer: &str) -> bool {
    let root = super::schema::file();
    match pointer.strip_prefix('/') {
        None => pointer.is_empty(),
        Some(_) => {
            let keys: Vec<String> = crate::paths::pointer_keys(pointer)
                .map(|k| k.into_owned())
                .collect();
            resolves(root, root, &keys, 0)
        }
    }
}

/// Fails, in debug builds, on a pointer that names no policy field: the
/// lowering calls it wherever a control hands it one.
pub fn debug_check(pointer: &str) {
    debug_assert!(names_a_field(pointer), "`{pointer}` names no policy field");
}

/// How deep `$ref`s may nest before a schema is taken to loop.
const MAX_REFS: usize = 32;

fn resolves(root: &Value, node: &Value, keys: &[String], refs: usize) -> bool {
    let Some((key, rest)) = keys.split_first() else {
        return true;
    };
    if let Some(target) = node.get("$ref").and_then(Value::as_str) {
        return refs < MAX_REFS
            && target
                .strip_prefix('#')
                .and_then(|p| root.pointer(p))
                .is_some_and(|n| resolves(root, n, keys, refs + 1));
    }
    // One of several shapes: the key must be a field of one of them.
    let alternatives = ["allOf", "anyOf", "oneOf"]
        .iter()
        .filter_map(|k| node.get(*k).and_then(Value::as_array))
        .flatten();
    for alt in alternatives {
        if resolves(root, alt, keys, refs) {
            return true;
        }
    }
    let child = node
        .get("properties")
        .and_then(|p| p.get(key.as_str()))
        .or_else(|| {
            key.parse::<usize>()
                .ok()
                .and(node.get("items"))
                .filter(|i| i.is_object())
        })
        .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()));
    child.is_some_and(|c| resolves(root, c, rest, refs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_list_items_and_map_entries_resolve() {
        for ok in [
            "",
            "/spec",
            "/metadata/namespace",
            "/spec/egress/allow/0/cidr",
            "/spec/userPods/runtimeClass/scheduling/nodeSelector/any.key~1x",
            "/exceptions/2/control",
        ] {
            assert!(names_a_field(ok), "{ok}");
        }
    }

    #[test]
    fn a_misspelt_or_misplaced_pointer_does_not() {
        for bad in [
            "spec",
            "/spec/egres",
            "/spec/egress/allow/first/cidr",
            "/spec/egress/allow/0/cidrs",
            "/spec/userPods/runAsNonRoot/extra",
            "/spec/cloudMetadata/mode/",
        ] {
            assert!(!names_a_field(bad), "{bad}");
        }
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "`/spec/userPod/uid` names no policy field")]
    fn the_lowering_check_fails_on_a_typo() {
        debug_check("/spec/userPod/uid");
    }

    /// Every control's own field is one.
    #[test]
    fn every_control_field_names_a_field() {
        for c in crate::controls::ALL {
            let def = c.def();
            assert!(names_a_field(def.field), "{}: `{}`", def.id, def.field);
        }
    }
}

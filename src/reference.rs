//! The policy reference in the README, generated from the control
//! definitions and the schema so the two cannot drift apart.

use serde_json::Value;

use crate::controls::ALL;
use crate::policy::schema;

/// Markdown for every control: field, rationale, settings strongest first.
pub fn markdown() -> String {
    let mut out = String::new();
    out.push_str("| field | control | settings, strongest first |\n|---|---|---|\n");
    for c in ALL {
        let d = c.def();
        let names: Vec<String> = d.settings.iter().map(|s| format!("`{}`", s.name)).collect();
        out.push_str(&format!(
            "| [`{}`](#{}) | {} | {} |\n",
            d.dotted_field(),
            d.id,
            d.title,
            names.join(" › ")
        ));
    }
    for c in ALL {
        let d = c.def();
        out.push_str(&format!(
            "\n#### {}\n\n`{}` — {}\n\n{}\n\n",
            d.id,
            d.dotted_field(),
            d.title,
            d.rationale.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
        if let Some(desc) = field_description(d.field) {
            out.push_str(&format!("{desc}\n\n"));
        }
        out.push_str("| setting | strength | compiles to |\n|---|---|---|\n");
        for s in d.settings {
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                s.name,
                s.rank,
                crate::markdown::text(s.summary)
            ));
        }
    }
    out
}

/// The schema's description of a policy field, if it has one.
fn field_description(pointer: &str) -> Option<String> {
    let root = schema::complete();
    let mut node = root;
    for seg in crate::paths::pointer_keys(pointer) {
        node = resolve(root, node).get("properties")?.get(seg.as_ref())?;
    }
    let node_desc = node
        .get("description")
        .or_else(|| resolve(root, node).get("description"));
    node_desc
        .and_then(Value::as_str)
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|p| root.pointer(p))
    {
        Some(t) => t,
        None => node,
    }
}

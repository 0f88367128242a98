//! `compile --annotate`: `values.yaml` with the provenance of every value as
//! a comment above its key, for reviewers.
//!
//! The YAML itself is the serializer's output, unchanged: it is parsed back
//! to learn the line and column of every key, and comment lines are inserted
//! above those lines. Comments never enter a scalar (they go before a key or
//! a list item's dash), so the document means exactly what it meant.

use std::collections::BTreeMap;

use super::{Entry, compact, entries, provenance};
use crate::compile::Compiled;
use crate::plan::Origin;
use crate::yaml;

/// The comment for one entry, on one line.
pub fn comment(e: &Entry) -> String {
    let from = provenance(&Origin {
        control: e.control,
        field: e.policy_field.clone(),
        source: e.source.clone(),
        preset: e.preset.clone(),
        line: e.line,
    });
    let text = format!(
        "{}: {} {from} — {}",
        e.policy_field,
        compact(&e.policy_value),
        e.control
    );
    // Helm's YAML reader also ends a comment at U+0085, U+2028 and U+2029.
    crate::emit::one_line(&text.replace(['\n', '\r'], " "))
}

/// The body of `values.yaml` (no header) with provenance comments.
pub fn values_yaml(c: &Compiled) -> String {
    let text = yaml::to_string(&c.rendered.values);
    let Ok(doc) = yaml::parse(&text) else {
        return text;
    };
    // line → (column, comments), in emission order.
    let mut at: BTreeMap<u32, (u32, Vec<String>)> = BTreeMap::new();
    for e in entries(c).iter().filter(|e| e.kind == "value") {
        let ptr = crate::paths::pointer(&e.path);
        // A key's own position; for a list item, its node's, whose dash is two columns left.
        let pos = match doc.spans.get(&format!("{ptr}#key")) {
            Some(p) => Some(p),
            None => doc.spans.get(&ptr).map(|mut p| {
                p.column = p.column.saturating_sub(2).max(1);
                p
            }),
        };
        let Some(pos) = pos else { continue };
        let slot = at.entry(pos.line).or_insert((pos.column, Vec::new()));
        let c = comment(e);
        if !slot.1.contains(&c) {
            slot.1.push(c);
        }
    }
    let mut out = String::with_capacity(text.len() * 2);
    for (i, line) in text.lines().enumerate() {
        if let Some((col, comments)) = at.get(&(i as u32 + 1)) {
            let pad = " ".repeat(*col as usize - 1);
            for c in comments {
                out.push_str(&format!("{pad}# {c}\n"));
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

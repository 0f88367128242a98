//! `extends`: merging a policy over its parent, remembering which file (or
//! preset) supplied every setting.
//!
//! Rules: mappings merge key by key; lists and scalars replace the parent's
//! value whole; `metadata` always comes from the child; `extends` is not
//! inherited.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::diag::Loc;
use crate::paths::escape_pointer;
use crate::yaml::SpanMap;

/// One file of an `extends` chain.
#[derive(Debug, Clone)]
pub struct Source {
    /// How the file is named in messages: the path given, or `preset:NAME`.
    pub name: String,
    /// Set when the file is a built-in preset.
    pub preset: Option<String>,
    pub text: Arc<str>,
    pub spans: SpanMap,
}

/// Which source supplied each leaf (scalar or list) of a merged policy.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    pub sources: Vec<Source>,
    origin: BTreeMap<String, usize>,
    /// Items appended to a parent's list (`exceptions`): their pointer in
    /// the merged policy → their pointer in the file that wrote them.
    moved: BTreeMap<String, String>,
}

impl Provenance {
    pub fn add_source(&mut self, s: Source) -> usize {
        self.sources.push(s);
        self.sources.len() - 1
    }

    /// Index of the source that supplied the value at `pointer`: the value
    /// itself, its nearest recorded ancestor, or its first recorded descendant.
    pub fn source_index(&self, pointer: &str) -> Option<usize> {
        let mut p = pointer.to_string();
        loop {
            if let Some(i) = self.origin.get(&p) {
                return Some(*i);
            }
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => break,
            }
        }
        let prefix = format!("{pointer}/");
        self.origin
            .range(prefix.clone()..)
            .next()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, i)| *i)
    }

    /// `pointer` as it reads in the file that supplied it: the same, except
    /// inside an item appended after a parent's items.
    fn in_source(&self, pointer: &str) -> String {
        for (merged, own) in &self.moved {
            if let Some(rest) = pointer.strip_prefix(merged.as_str())
                && (rest.is_empty() || rest.starts_with('/'))
            {
                return format!("{own}{rest}");
            }
        }
        pointer.to_string()
    }

    pub fn source(&self, pointer: &str) -> Option<&Source> {
        self.source_index(pointer).and_then(|i| self.sources.get(i))
    }

    /// Where the value at `pointer` was written.
    pub fn loc(&self, pointer: &str) -> Option<Loc> {
        let s = self.source(pointer)?;
        Some(Loc::new(
            &s.name,
            &s.text,
            s.spans.locate(&self.in_source(pointer)),
        ))
    }

    /// The line of [`Provenance::loc`] alone: origins stamped on every
    /// lowered value need no copy of the source line.
    pub fn line(&self, pointer: &str) -> Option<u32> {
        let s = self.source(pointer)?;
        Some(s.spans.locate(&self.in_source(pointer)).line)
    }

    /// Like [`Provenance::loc`] but pointing at the key rather than the value.
    pub fn key_loc(&self, pointer: &str) -> Option<Loc> {
        let s = self.source(pointer)?;
        Some(Loc::new(
            &s.name,
            &s.text,
            s.spans.locate_key(&self.in_source(pointer)),
        ))
    }

    /// The preset the value at `pointer` was inherited from, if any.
    pub fn preset(&self, pointer: &str) -> Option<&str> {
        self.source(pointer).and_then(|s| s.preset.as_deref())
    }

    /// Records every leaf of `value` as coming from `src`.
    pub fn record_all(&mut self, value: &Value, pointer: &str, src: usize) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                // A mapping replacing a parent's scalar: the scalar's origin goes.
                self.origin.remove(pointer);
                for (k, v) in map {
                    self.record_all(v, &format!("{pointer}/{}", escape_pointer(k)), src);
                }
            }
            _ => {
                self.forget_below(pointer);
                self.origin.insert(pointer.to_string(), src);
            }
        }
    }

    fn forget_below(&mut self, pointer: &str) {
        let prefix = format!("{pointer}/");
        let stale: Vec<String> = self
            .origin
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            self.origin.remove(&k);
        }
    }
}

/// Merges `child` (from source `src`) over `parent` in place.
pub fn merge(parent: &mut Value, child: &Value, src: usize, prov: &mut Provenance) {
    let (Value::Object(base), Value::Object(over)) = (parent, child) else {
        return;
    };
    for (k, v) in over {
        let ptr = format!("/{}", escape_pointer(k));
        match k.as_str() {
            "extends" => {}
            // A child's exceptions add to its parent's: an exception is
            // granted where it is written, and never lifted by a child.
            "exceptions" => append(base, k, v, src, prov),
            "metadata" => {
                base.insert(k.clone(), v.clone());
                prov.record_all(v, &ptr, src);
            }
            _ => merge_value(base, k, v, &ptr, src, prov),
        }
    }
    base.remove("extends");
}

fn append(base: &mut Map<String, Value>, key: &str, v: &Value, src: usize, prov: &mut Provenance) {
    let (Some(Value::Array(items)), Value::Array(more)) = (base.get_mut(key), v) else {
        return merge_value(
            base,
            key,
            v,
            &format!("/{}", escape_pointer(key)),
            src,
            prov,
        );
    };
    for (i, item) in more.iter().enumerate() {
        let at = format!("/{}/{}", escape_pointer(key), items.len());
        prov.record_all(item, &at, src);
        // The item itself too: its parent list is a leaf of an earlier file.
        prov.origin.insert(at.clone(), src);
        prov.moved
            .insert(at, format!("/{}/{i}", escape_pointer(key)));
        items.push(item.clone());
    }
}

fn merge_value(
    base: &mut Map<String, Value>,
    key: &str,
    v: &Value,
    ptr: &str,
    src: usize,
    prov: &mut Provenance,
) {
    match (base.get_mut(key), v) {
        (Some(Value::Object(b)), Value::Object(o)) => {
            for (k, child) in o {
                merge_value(
                    b,
                    k,
                    child,
                    &format!("{ptr}/{}", escape_pointer(k)),
                    src,
                    prov,
                );
            }
        }
        _ => {
            base.insert(key.to_string(), v.clone());
            prov.record_all(v, ptr, src);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_merge_lists_replace_and_origins_follow() {
        let mut prov = Provenance::default();
        let src = |n: &str| Source {
            name: n.into(),
            preset: None,
            text: Arc::from(""),
            spans: SpanMap::default(),
        };
        let a = prov.add_source(src("parent"));
        let b = prov.add_source(src("child"));
        let mut merged = json!({"metadata": {"name": "p", "namespace": "x"}, "spec": {"egress": {"profile": "none", "allow": [1, 2]}, "pids": {"limit": 100}}});
        prov.record_all(&merged, "", a);
        let child = json!({"extends": "p.yaml", "metadata": {"name": "c", "namespace": "y"}, "spec": {"egress": {"allow": [3]}}});
        merge(&mut merged, &child, b, &mut prov);
        assert_eq!(
            merged["spec"]["egress"],
            json!({"profile": "none", "allow": [3]})
        );
        assert!(merged.get("extends").is_none());
        assert_eq!(prov.source_index("/spec/egress/allow"), Some(b));
        assert_eq!(prov.source_index("/spec/egress/allow/0"), Some(b));
        assert_eq!(prov.source_index("/spec/egress/profile"), Some(a));
        // No exact origin for a mapping: its first recorded leaf answers.
        assert_eq!(prov.source_index("/spec/egress"), Some(b));
        assert_eq!(prov.source_index("/metadata/name"), Some(b));
    }

    /// A mapping over a parent's plain word (`internalTls: not-required`
    /// replaced by `{mode: mesh, …}`) is the child's, not the parent's.
    #[test]
    fn a_mapping_replacing_a_scalar_takes_its_origin() {
        let mut prov = Provenance::default();
        let src = |n: &str| Source {
            name: n.into(),
            preset: None,
            text: Arc::from(""),
            spans: SpanMap::default(),
        };
        let a = prov.add_source(src("parent"));
        let b = prov.add_source(src("child"));
        let mut merged = json!({"spec": {"internalTls": "not-required"}});
        prov.record_all(&merged, "", a);
        let child = json!({"spec": {"internalTls": {"mode": "mesh", "mesh": "istio"}}});
        merge(&mut merged, &child, b, &mut prov);
        assert_eq!(prov.source_index("/spec/internalTls"), Some(b));
        assert_eq!(prov.source_index("/spec/internalTls/mesh"), Some(b));
    }

    #[test]
    fn exceptions_add_to_the_parents_and_point_into_their_own_file() {
        let mut prov = Provenance::default();
        let src = |n: &str, text: &str| Source {
            name: n.into(),
            preset: None,
            text: Arc::from(text),
            spans: crate::yaml::parse(text).unwrap().spans,
        };
        let parent_text =
            "exceptions:\n- {control: egress, reason: r, owner: o, expires: 2027-01-01}\n";
        let child_text = "exceptions:\n- {control: pids, reason: r, owner: o, expires: 2027-01-01}\n- {control: bandwidth, reason: r, owner: o, expires: 2027-01-01}\n";
        let a = prov.add_source(src("parent", parent_text));
        let b = prov.add_source(src("child", child_text));
        let mut merged = crate::yaml::parse(parent_text).unwrap().value;
        prov.record_all(&merged, "", a);
        merge(
            &mut merged,
            &crate::yaml::parse(child_text).unwrap().value,
            b,
            &mut prov,
        );
        let controls: Vec<&str> = merged["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["control"].as_str().unwrap())
            .collect();
        assert_eq!(controls, ["egress", "pids", "bandwidth"]);
        let at = |p: &str| {
            let l = prov.loc(p).unwrap();
            (l.file, l.line)
        };
        assert_eq!(at("/exceptions/0/control"), ("parent".into(), 2));
        assert_eq!(at("/exceptions/1/control"), ("child".into(), 2));
        assert_eq!(at("/exceptions/2/expires"), ("child".into(), 3));
        assert_eq!(at("/exceptions/2"), ("child".into(), 3));
    }
}

//! Where a control's state was decided: the last values file (or, failing
//! that, the chart's own `values.yaml`) that sets one of the control's
//! `values_keys`, preferring keys whose merged value differs from what the
//! policy's values would give.

use serde::Serialize;
use serde_json::Value;

use super::Installed;
use crate::controls::ControlDef;
use crate::paths::{dotted_values_path, escape_pointer, pointer};
use crate::validate::chart_values::ValuesFile;
use crate::values;

/// What reports show in place of a credential.
pub const HIDDEN: &str = "[value withheld]";

/// A file, line and column, the key there and what the merged values hold at it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// Dotted values path of the key.
    pub key: String,
    /// The merged value at `key` (absent when the key was deleted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// True when the key comes from the chart's defaults, not a user file.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub chart_default: bool,
}

impl Evidence {
    /// `file:line:column`.
    pub fn place(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.column)
    }

    /// The same place with the value withheld (a credential).
    pub fn hidden(self) -> Evidence {
        Evidence {
            value: self.value.map(|_| Value::String(HIDDEN.into())),
            ..self
        }
    }

    /// `key: value` in one line, long values shortened.
    pub fn setting(&self) -> String {
        let v = match &self.value {
            None => "(unset)".to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        };
        let v = v.replace('\n', "\\n");
        let short: String = v.chars().take(100).collect();
        let ell = if short.len() < v.len() { "…" } else { "" };
        format!("{}: {short}{ell}", self.key)
    }
}

/// Evidence for one control, or `None` when no file sets any of its keys.
pub fn locate(
    def: &ControlDef,
    installed: &Installed,
    merged: &Value,
    expected: &Value,
) -> Option<Evidence> {
    let keys = def.values_paths();
    let at = |k: &[String], root: &Value| {
        values::get(root, &k.iter().map(String::as_str).collect::<Vec<_>>()).cloned()
    };
    let differing: Vec<&Vec<String>> = keys
        .iter()
        .filter(|k| at(k, merged) != at(k, expected))
        .collect();
    let all: Vec<&Vec<String>> = keys.iter().collect();
    let chart = installed.chart_file.iter();
    for set in [&differing, &all] {
        for (file, is_default) in installed
            .files
            .iter()
            .rev()
            .map(|f| (f, false))
            .chain(chart.clone().map(|f| (f, true)))
        {
            for k in set.iter() {
                if let Some((line, column, key)) = sets(file, k) {
                    return Some(Evidence {
                        file: file.name.clone(),
                        line,
                        column,
                        value: at(&key, merged),
                        key: dotted_values_path(&key),
                        chart_default: is_default,
                    });
                }
            }
        }
    }
    None
}

/// Evidence for what decided a control: the exact key (in the last file
/// that sets it, else the chart's defaults), the line of Python, or the
/// manifest document. `None` for built-in defaults.
pub fn at_origin(
    origin: &crate::effective::Origin,
    installed: &Installed,
    merged: &Value,
) -> Option<Evidence> {
    use crate::effective::Origin;
    match origin {
        Origin::Values { path } => {
            // The key itself, else its nearest ancestor that a file sets.
            let path = path.to_strings();
            for len in (1..=path.len()).rev() {
                if let Some(e) = at_values_path(&path[..len], installed, merged) {
                    return Some(e);
                }
            }
            None
        }
        Origin::Python(l) => {
            let file = installed.files.iter().rev().find_map(|f| {
                sets(f, &l.path)
                    .filter(|(_, _, k)| k == &l.path)
                    .map(|s| (f, s))
            })?;
            let (f, (line, _, _)) = file;
            let ptr = pointer(&l.path);
            // A block scalar's text starts on the line after its indicator.
            let value_line = f.doc.spans.get(&ptr).map_or(line, |p| p.line);
            let indicator = f
                .text
                .lines()
                .nth(value_line.saturating_sub(1) as usize)
                .is_some_and(|t| {
                    let t = t.trim_end();
                    t.ends_with('|') || t.ends_with('>') || t.contains(": |") || t.contains(": >")
                });
            let first = if indicator {
                value_line + 1
            } else {
                value_line
            };
            let line = first + l.line - 1;
            let column = f
                .text
                .lines()
                .nth(line.saturating_sub(1) as usize)
                .map_or(1, |t| t.len() - t.trim_start().len() + 1);
            Some(Evidence {
                file: f.name.clone(),
                line,
                column: u32::try_from(column).unwrap_or(1),
                key: dotted_values_path(&l.path),
                value: Some(Value::String(l.text.clone())),
                chart_default: false,
            })
        }
        Origin::Manifest { file, index, path } => {
            let start = installed
                .manifest_starts
                .iter()
                .find(|(f, i, _)| f == file && i == index)
                .map_or(1, |(_, _, l)| *l);
            let (line, value) = manifest_line(file, start, path).unwrap_or((start, None));
            Some(Evidence {
                file: file.clone(),
                line,
                column: 1,
                key: dotted_values_path(path),
                value,
                chart_default: false,
            })
        }
        Origin::Default { .. } => None,
    }
}

/// The line of `path` inside the manifest document starting at `start`,
/// and the value there.
fn manifest_line(file: &str, start: u32, path: &[String]) -> Option<(u32, Option<Value>)> {
    let text = std::fs::read_to_string(file).ok()?;
    let doc: String = text
        .lines()
        .skip(start.saturating_sub(1) as usize)
        .take_while(|l| !l.starts_with("---"))
        .map(|l| format!("{l}\n"))
        .collect();
    let parsed = crate::yaml::parse(&doc).ok()?;
    let ptr = pointer(path);
    Some((
        start + parsed.spans.locate(&ptr).line - 1,
        parsed.value.pointer(&ptr).cloned(),
    ))
}

fn at_values_path(path: &[String], installed: &Installed, merged: &Value) -> Option<Evidence> {
    let files = installed.files.iter().rev().map(|f| (f, false));
    let chart = installed.chart_file.iter().map(|f| (f, true));
    for (file, is_default) in files.chain(chart) {
        if let Some((line, column, key)) = sets(file, path) {
            let value = key.iter().try_fold(merged, |node, k| match node {
                Value::Array(a) => a.get(k.parse::<usize>().ok()?),
                other => other.get(k),
            });
            return Some(Evidence {
                file: file.name.clone(),
                line,
                column,
                value: value.cloned(),
                key: dotted_values_path(&key),
                chart_default: is_default,
            });
        }
    }
    None
}

/// Where `file` sets the key at `path`: the key itself, or an ancestor it
/// sets to something other than a mapping (which replaces or deletes the key).
/// List items are followed by index.
fn sets(file: &ValuesFile, path: &[String]) -> Option<(u32, u32, Vec<String>)> {
    let mut node = &file.doc.value;
    let mut ptr = String::new();
    for (i, k) in path.iter().enumerate() {
        ptr.push('/');
        ptr.push_str(&escape_pointer(k));
        node = match node {
            Value::Array(a) => a.get(k.parse::<usize>().ok()?)?,
            other => other.as_object()?.get(k)?,
        };
        let last = i + 1 == path.len();
        if last || !(node.is_object() || node.is_array()) {
            let pos = file
                .doc
                .spans
                .get(&format!("{ptr}#key"))
                .or_else(|| file.doc.spans.get(&ptr))?;
            return Some((pos.line, pos.column, path[..=i].to_vec()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> ValuesFile {
        ValuesFile::from_text(name, text.into()).unwrap()
    }

    #[test]
    fn key_or_replacing_ancestor() {
        // (`y:` would be the key "true" to Helm.)
        let f = file("a.yaml", "x:\n  b:\n    z: 1\nw: null\n");
        let p = |s: &str| s.split('.').map(String::from).collect::<Vec<_>>();
        assert_eq!(sets(&f, &p("x.b.z")), Some((3, 5, p("x.b.z"))));
        assert_eq!(sets(&f, &p("w.v")), Some((4, 1, p("w"))));
        assert_eq!(sets(&f, &p("x.q")), None);
    }
}

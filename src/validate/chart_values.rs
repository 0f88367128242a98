//! Values files against a chart: merge over the chart's defaults with Helm's
//! rules, then validate with the chart's `values.schema.json`. Each error
//! points into the last file that set the offending key.

use std::path::Path;

use serde_json::Value;

use super::schema_check;
use crate::chart::ChartDir;
use crate::diag::{Diagnostic, Loc};
use crate::parse::{read_text, read_yaml};
use crate::values::helm_merge;
use crate::yaml::Doc;

/// One user values file.
#[derive(Debug, Clone)]
pub struct ValuesFile {
    pub name: String,
    pub text: String,
    pub doc: Doc,
}

impl ValuesFile {
    pub fn read(path: &Path) -> Result<ValuesFile, Diagnostic> {
        let text = read_text(path)?;
        let name = path.display().to_string();
        Self::from_text(&name, text)
    }

    pub fn from_text(name: &str, text: String) -> Result<ValuesFile, Diagnostic> {
        let mut doc = read_yaml(name, &text)?;
        // A file of only comments is an empty values file to Helm.
        if !doc.value.is_object() {
            return Err(Diagnostic::error(format!("`{name}` must be a mapping of values")).at(Loc::new(name, &text, doc.spans.locate(""))));
        }
        doc.value = std::mem::take(&mut doc.value);
        Ok(ValuesFile { name: name.to_string(), text, doc })
    }
}

/// Merges files over defaults in order.
pub fn merged(defaults: &Value, files: &[ValuesFile]) -> Value {
    let mut v = defaults.clone();
    for f in files {
        helm_merge(&mut v, &f.doc.value);
    }
    v
}

/// Validates the merged values; returns one error per violation.
pub fn validate_against_chart(chart: &ChartDir, files: &[ValuesFile]) -> Vec<Diagnostic> {
    let v = merged(&chart.defaults, files);
    let validator = match schema_check::validator(&chart.schema) {
        Ok(v) => v,
        Err(e) => return vec![Diagnostic::error(format!("chart {} {}: {e}", chart.name, chart.version))],
    };
    // Check against a document whose spans come from the file that set each key.
    let doc = Doc { value: v, spans: Default::default() };
    schema_check::check(&validator, &chart.schema, &doc, "merged values", "")
        .into_iter()
        .map(|d| relocate(d, files))
        .collect()
}

/// Points a diagnostic about a values path at the last file that wrote it.
fn relocate(mut d: Diagnostic, files: &[ValuesFile]) -> Diagnostic {
    let Some(ptr) = d.message.split('`').nth(1).map(pointer_from_dotted) else { return d };
    for f in files.iter().rev() {
        let mut p = ptr.clone();
        loop {
            if let Some(pos) = f.doc.spans.get(&p) {
                d.location = Some(Loc::new(&f.name, &f.text, pos));
                return d;
            }
            match p.rfind('/') {
                Some(i) if i > 0 => p.truncate(i),
                _ => break,
            }
        }
    }
    d.location = None;
    d
}

fn pointer_from_dotted(dotted: &str) -> String {
    let mut out = String::new();
    for part in dotted.split('.') {
        let (key, idx) = match part.split_once('[') {
            Some((k, rest)) => (k, Some(rest.trim_end_matches(']'))),
            None => (part, None),
        };
        out.push('/');
        out.push_str(&crate::yaml::escape_pointer(key));
        if let Some(i) = idx {
            out.push('/');
            out.push_str(i);
        }
    }
    out
}

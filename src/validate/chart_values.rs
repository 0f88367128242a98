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
            return Err(
                Diagnostic::error(format!("`{name}` must be a mapping of values")).at(Loc::new(
                    name,
                    &text,
                    doc.spans.locate(""),
                )),
            );
        }
        doc.value = std::mem::take(&mut doc.value);
        Ok(ValuesFile {
            name: name.to_string(),
            text,
            doc,
        })
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

/// Validates the merged values; returns one error per violation, each
/// pointing into the last file that set the offending key.
pub fn validate_against_chart(chart: &ChartDir, files: &[ValuesFile]) -> Vec<Diagnostic> {
    let v = merged(&chart.defaults, files);
    let validator = match chart.validator() {
        Ok(v) => v,
        Err(e) => {
            return vec![Diagnostic::error(format!(
                "chart {} {}: {e}",
                chart.name, chart.version
            ))];
        }
    };
    let locate = |ptr: &str, key: bool| locate_in(files, ptr, key);
    schema_check::check_value(validator, &chart.schema, &v, &locate)
}

/// The last file that wrote `ptr`; failing that, the last file that wrote
/// its nearest ancestor.
pub fn locate_in(files: &[ValuesFile], ptr: &str, key: bool) -> Option<Loc> {
    let mut p = ptr.to_string();
    while !p.is_empty() {
        for f in files.iter().rev() {
            let found = if key {
                f.doc.spans.get(&format!("{p}#key"))
            } else {
                None
            }
            .or_else(|| f.doc.spans.get(&p));
            if let Some(pos) = found {
                return Some(Loc::new(&f.name, &f.text, pos));
            }
        }
        match p.rfind('/') {
            Some(i) => p.truncate(i),
            None => break,
        }
    }
    None
}

//! Terraform's `external` data source protocol: a query (JSON object of
//! strings) in, a flat JSON object of strings out.
//!
//! Input: the [`Query`] (policy path or text, optional chart version, base
//! values file and chart folder). Output: the [`RESULT_KEYS`] — values,
//! manifests (all and per group), warnings and notes as JSON-encoded lists,
//! the chart version and a SHA-256 of what gets deployed. Every key is always
//! present (an empty string when there is nothing), so references in HCL
//! never fail. The generated YAML carries no header comment: the text depends
//! only on the policy, never on the path it was read from.
//!
//! The run reads files and nothing else: no writes, no prompts, no clock.

pub mod base;
pub mod query;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;
use sha2::{Digest, Sha256};

pub use query::{PolicySource, Query};

use crate::chart::ChartDir;
use crate::compile::{Options, compile};
use crate::diag::{Diagnostic, Severity};
use crate::emit;
use crate::parse::Input;
use crate::plan::Group;
use crate::validate::chart_values::ValuesFile;
use crate::validate::formats::chart_version;

/// Name of the inline policy in messages (`policy_yaml:3:7: …`).
pub const INLINE_NAME: &str = "policy_yaml";

/// Every key of the result, in the (sorted) order it is printed.
pub const RESULT_KEYS: &[&str] = &[
    "admission_yaml",
    "chart_version",
    "manifests_yaml",
    "namespace_yaml",
    "network_yaml",
    "notes",
    "quota_yaml",
    "rbac_yaml",
    "sha256",
    "storage_yaml",
    "values_yaml",
    "warnings",
];

/// The keys the `sha256` covers, in hashing order.
pub const HASHED_KEYS: &[&str] = &["chart_version", "values_yaml", "manifests_yaml"];

/// The result object: key → string value, sorted by key.
pub type Outcome = BTreeMap<&'static str, String>;

/// Compiles the queried policy into the result object, or returns the errors.
pub fn run(q: &Query) -> Result<Outcome, Vec<Diagnostic>> {
    if let Some(v) = &q.chart_version {
        chart_version(v).map_err(|e| {
            vec![
                Diagnostic::error(format!("invalid `chart_version` `{v}` in the query"))
                    .help(format!("expected {e}")),
            ]
        })?;
    }
    let input = match &q.policy {
        PolicySource::File(p) => Input::File(p.clone()),
        PolicySource::Inline(text) => Input::Inline {
            name: INLINE_NAME.to_string(),
            text: text.clone(),
            // Relative `extends` paths resolve against the working directory.
            base: PathBuf::from("."),
        },
    };
    let opts = Options {
        chart_version: q.chart_version.clone(),
        today: q.today,
        ..Default::default()
    };
    // Only errors are reported on failure: warnings would read as more errors.
    let compiled = compile(&input, &opts).map_err(|d| {
        let errors: Vec<Diagnostic> = d.iter().filter(|d| d.is_error()).cloned().collect();
        if errors.is_empty() { d } else { errors }
    })?;
    let target = compiled.loaded.policy.chart.clone();

    let chart = match &q.chart_dir {
        None => None,
        Some(dir) => {
            let c = ChartDir::load(dir).map_err(|d| vec![d])?;
            if c.version != target {
                return Err(vec![
                    Diagnostic::error(format!(
                        "`chart_dir` `{}` holds chart {} {}, but the policy targets chart {target}",
                        dir.display(),
                        c.name,
                        c.version
                    ))
                    .help(
                        "point `chart_dir` at the chart version you deploy, or set `chart_version`",
                    ),
                ]);
            }
            Some(c)
        }
    };

    let policy_values = &compiled.rendered.values;
    let policy_file =
        ValuesFile::from_text(base::COMPILED_NAME, crate::yaml::to_string(policy_values))
            .map_err(|d| vec![d])?;
    let mut diags: Vec<Diagnostic> = compiled.diagnostics().to_vec();
    let (values, files) = match &q.base_values {
        None => (policy_values.clone(), vec![policy_file]),
        Some(path) => {
            let base_file = base::read(path).map_err(|d| vec![d])?;
            let combined = base::combine(&base_file.doc.value, policy_values);
            let found = base::weakenings(
                &compiled,
                chart.as_ref(),
                policy_values,
                &combined,
                &base_file.name,
            );
            if found.iter().any(Diagnostic::is_error) {
                return Err(found.into_iter().filter(Diagnostic::is_error).collect());
            }
            diags.extend(found);
            if chart.is_none() {
                diags.push(Diagnostic::note(format!(
                    "`{}` was only checked to be a YAML mapping: give `chart_dir` to validate the merged values against the chart's schema",
                    base_file.name
                )));
            }
            (combined, vec![base_file, policy_file])
        }
    };
    if let Some(c) = &chart {
        let errors = base::check_chart(c, &values, &files);
        if !errors.is_empty() {
            return Err(errors);
        }
    }

    let mut out = Outcome::new();
    let mut all = Vec::new();
    for g in Group::ALL {
        let text = body(&compiled.output, &emit::manifest_path(g));
        if !text.is_empty() {
            all.push(text.clone());
        }
        out.insert(group_key(g), text);
    }
    out.insert("manifests_yaml", all.join("---\n"));
    out.insert("values_yaml", crate::yaml::to_string(&values));
    out.insert("chart_version", target);
    out.insert("warnings", json_list(&diags, Severity::Warning));
    out.insert("notes", json_list(&diags, Severity::Note));
    out.insert("sha256", digest(&out));
    Ok(out)
}

/// The result key of a manifest group (`rbac_yaml`).
pub fn group_key(g: Group) -> &'static str {
    match g {
        Group::Namespace => "namespace_yaml",
        Group::Runtime => "runtime_yaml",
        Group::Rbac => "rbac_yaml",
        Group::Network => "network_yaml",
        Group::Storage => "storage_yaml",
        Group::Quota => "quota_yaml",
        Group::Admission => "admission_yaml",
    }
}

fn body(out: &emit::Output, path: &str) -> String {
    out.files
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, b)| b.clone())
        .unwrap_or_default()
}

/// SHA-256 (lowercase hex) over [`HASHED_KEYS`]: for each, the key, a
/// newline, the value's length in bytes, a newline, the value, a newline.
/// Lengths make the concatenation unambiguous.
pub fn digest(out: &Outcome) -> String {
    let mut h = Sha256::new();
    for key in HASHED_KEYS {
        let v = out.get(key).map_or("", String::as_str);
        h.update(format!("{key}\n{}\n", v.len()));
        h.update(v);
        h.update("\n");
    }
    format!("{:x}", h.finalize())
}

fn json_list(diags: &[Diagnostic], severity: Severity) -> String {
    let items: Vec<Value> = diags
        .iter()
        .filter(|d| d.severity == severity)
        .map(|d| Value::String(one_line(d)))
        .collect();
    Value::Array(items).to_string()
}

/// A diagnostic on one line: `file:line:column: message; help (see file:line:column)`.
pub fn one_line(d: &Diagnostic) -> String {
    let mut s = String::new();
    if let Some(l) = &d.location {
        s.push_str(&loc(l));
        s.push_str(": ");
    }
    s.push_str(&d.message);
    if let Some(h) = &d.help {
        s.push_str("; ");
        s.push_str(h);
    }
    for l in &d.related {
        s.push_str(&format!(" (see {})", loc(l)));
    }
    // Terraform shows the message in a box; a line break would split it.
    s.replace(['\n', '\r'], " ")
}

fn loc(l: &crate::diag::Loc) -> String {
    if l.line == 0 {
        l.file.clone()
    } else {
        format!("{}:{}:{}", l.file, l.line, l.column)
    }
}

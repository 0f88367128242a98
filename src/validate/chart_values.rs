//! Values files against a chart: merge over the chart's defaults with Helm's
//! rules, then validate with the chart's `values.schema.json`. Each error
//! points into the last file that set the offending key.

use std::path::Path;

use serde_json::Value;

use super::schema_check;
use crate::chart::ChartDir;
use crate::diag::{Diagnostic, Loc};
use crate::parse::read_text;
use crate::values::helm_merge;
use crate::yaml::Doc;

/// One user values file.
#[derive(Debug, Clone)]
pub struct ValuesFile {
    pub name: String,
    pub text: String,
    pub doc: Doc,
    /// Plain scalars Helm reads differently from YAML 1.2 (`no`, `0755`),
    /// already turned into Helm's reading in `doc`.
    pub yaml11: Vec<crate::yaml11::Reinterpreted>,
    /// What Helm accepts but hides a mistake (a repeated key).
    pub warnings: Vec<Diagnostic>,
}

impl ValuesFile {
    pub fn read(path: &Path) -> Result<ValuesFile, Diagnostic> {
        let text = read_text(path)?;
        let name = path.display().to_string();
        Self::from_text(&name, text)
    }

    pub fn from_text(name: &str, text: String) -> Result<ValuesFile, Diagnostic> {
        let mut doc = crate::parse::read_values_yaml(name, &text)?;
        // Helm merges mappings only (a file of only comments never gets
        // here: `assess::read_values` reads it as `{}`, `validate` refuses it).
        if !doc.value.is_object() {
            return Err(
                Diagnostic::error(format!("`{name}` must be a mapping of values")).at(Loc::new(
                    name,
                    &text,
                    doc.spans.locate(""),
                )),
            );
        }
        let yaml11 = crate::yaml11::helm_values(&mut doc, &text);
        // Helm keeps the last of repeated keys; say so, since a second
        // `uid:` further down is an easy way to undo the first unseen.
        let mut warnings = Vec::new();
        if let Err(d) = crate::parse::read_yaml(name, &text)
            && d.message.contains("duplicate key")
        {
            let mut w = d;
            w.severity = crate::diag::Severity::Warning;
            w.message = w
                .message
                .replace(
                    "each key may appear only once in a mapping",
                    "Helm keeps the last value",
                )
                .replace("invalid YAML in ", "in ");
            warnings.push(w);
        }
        Ok(ValuesFile {
            name: name.to_string(),
            text,
            doc,
            yaml11,
            warnings,
        })
    }
}

impl ValuesFile {
    /// Notes on every scalar whose meaning is Helm's YAML 1.1 reading.
    pub fn yaml11_notes(&self) -> Vec<Diagnostic> {
        self.yaml11
            .iter()
            .map(|r| {
                let last = r.path.rsplit('.').next().unwrap_or("");
                // A secret's value is never printed, not even here.
                let (written, helm) = if crate::diff::redact::secret_key(last) {
                    ("[redacted]".to_string(), "a number or boolean".to_string())
                } else {
                    (r.written.clone(), r.helm.to_string())
                };
                Diagnostic::note(format!(
                    "`{}: {written}` is read as {helm} (Helm reads values with YAML 1.1 rules; YAML 1.2 tools read a string)",
                    r.path
                ))
                .at(if crate::diff::redact::secret_key(last) {
                    Loc::file(&self.name)
                } else {
                    Loc::new(&self.name, &self.text, r.pos)
                })
                .help("quote the value if the string was meant")
            })
            .collect()
    }
}

/// Top-level keys of the z2jh chart's values; a file with none of them at
/// the top but a subtree full of them belongs to an umbrella chart.
const Z2JH_KEYS: &[&str] = &[
    "singleuser",
    "hub",
    "proxy",
    "scheduling",
    "prePuller",
    "cull",
    "ingress",
];

fn looks_like_z2jh(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|m| Z2JH_KEYS.iter().filter(|k| m.contains_key(**k)).count() >= 1)
}

/// The dotted path of a z2jh-shaped subtree (up to three levels down).
fn find_subtree(v: &Value, depth: usize) -> Option<Vec<String>> {
    let m = v.as_object()?;
    for (k, child) in m {
        if looks_like_z2jh(child) {
            return Some(vec![k.clone()]);
        }
        if depth > 1
            && let Some(mut rest) = find_subtree(child, depth - 1)
        {
            rest.insert(0, k.clone());
            return Some(rest);
        }
    }
    None
}

impl ValuesFile {
    /// The z2jh values inside an umbrella chart's values, at `key` (dotted).
    /// A file without that key holds no z2jh values: an empty mapping.
    pub fn subtree(mut self, key: &str) -> Result<ValuesFile, Diagnostic> {
        let path = crate::paths::values_path(key);
        let mut node = &self.doc.value;
        let mut ptr = String::new();
        for k in &path {
            match node.get(k) {
                Some(n) => {
                    node = n;
                    ptr.push('/');
                    ptr.push_str(&crate::paths::escape_pointer(k));
                }
                None => {
                    node = &Value::Null;
                    break;
                }
            }
        }
        match node {
            Value::Object(_) => {
                self.doc.value = node.clone();
                self.doc.spans = self.doc.spans.rebase(&ptr);
                let prefix = path.join(".") + ".";
                for r in &mut self.yaml11 {
                    r.path = r.path.strip_prefix(&prefix).unwrap_or(&r.path).to_string();
                }
            }
            Value::Null => {
                self.doc.value = Value::Object(Default::default());
                self.doc.spans = Default::default();
                self.yaml11.clear();
            }
            _ => {
                return Err(Diagnostic::error(format!(
                    "`{key}` in `{}` is not a mapping; expected the z2jh chart's values there",
                    self.name
                ))
                .at(Loc::new(
                    &self.name,
                    &self.text,
                    self.doc.spans.locate(&ptr),
                )));
            }
        }
        Ok(self)
    }

    /// An error when the file holds no z2jh keys at its top but a
    /// z2jh-shaped subtree: read as is, it would be graded as empty.
    pub fn umbrella_check(&self) -> Option<Diagnostic> {
        if looks_like_z2jh(&self.doc.value) {
            return None;
        }
        let path = find_subtree(&self.doc.value, 3)?;
        let key = path.join(".");
        let ptr = crate::paths::pointer(&path);
        Some(
            Diagnostic::error(format!(
                "`{}` has no z2jh values at its top, but `{key}` holds them (an umbrella chart's values); nothing would be read",
                self.name
            ))
            .at(Loc::new(&self.name, &self.text, self.doc.spans.locate_key(&ptr)))
            .help(format!("pass `--values-key {key}`")),
        )
    }
}

/// Reads values files for a command: `--values-key` applied, umbrella
/// files without it refused, YAML 1.1 notes collected.
pub fn read_files(
    paths: &[std::path::PathBuf],
    values_key: Option<&str>,
    strict: bool,
) -> Result<(Vec<ValuesFile>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut files = Vec::new();
    let mut notes = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        // `validate` refuses an empty file (a likely mistake); Helm reads it as `{}`.
        let f = if strict {
            ValuesFile::read(p)
        } else {
            crate::assess::read_values(p)
        }
        .map_err(|d| vec![d])?;
        let f = match values_key {
            Some(k) => f.subtree(k).map_err(|d| vec![d])?,
            None => {
                if let Some(e) = f.umbrella_check() {
                    errors.push(e);
                }
                f
            }
        };
        if strict {
            // A linter refuses what Helm quietly resolves.
            errors.extend(f.warnings.iter().cloned().map(|mut w| {
                w.severity = crate::diag::Severity::Error;
                w
            }));
        } else {
            notes.extend(f.warnings.iter().cloned());
        }
        notes.extend(f.yaml11_notes());
        files.push(f);
    }
    if let Some(k) = values_key {
        // A key no file holds is a typo, not an empty install.
        let path = crate::paths::values_path(k);
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        let found = paths.iter().any(|p| {
            crate::assess::read_values(p)
                .ok()
                .is_some_and(|f| crate::values::get(&f.doc.value, &refs).is_some())
        });
        if !found && !paths.is_empty() {
            errors.push(
                Diagnostic::error(format!("none of the values files has the key `{k}`"))
                    .help("pass the dotted path of the z2jh values in the umbrella chart's values, e.g. `jupyterhub` or `binderhub.jupyterhub`"),
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((files, notes))
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
        .into_iter()
        .map(hide_secret)
        .collect()
}

/// A diagnostic about a secret-named key shows neither its value nor its
/// source line.
fn hide_secret(mut d: Diagnostic) -> Diagnostic {
    let path = d.message.split('`').nth(1).unwrap_or("").to_string();
    let last = path.rsplit('.').next().unwrap_or("");
    if last.is_empty() || !crate::diff::redact::secret_key(last) {
        return d;
    }
    if let Some(l) = &mut d.location {
        l.source_line = None;
    }
    d.message = format!("`{path}` is refused by the chart's schema (its value is not shown)");
    d
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

//! The committed output a drift check compares with: the files
//! `compile -o DIR` writes (`emit::owned_paths`), read from DIR.
//!
//! Input: the directory. Output: each owned file's text, plus its values
//! and manifests parsed, so controls can be read back from them. A file
//! that is not valid YAML is an error naming file, line and column (Helm
//! and kubectl would refuse it too); files outside the owned layout are
//! not the compiler's and are ignored.

use std::path::Path;

use serde_json::{Value, json};

use crate::assess::values_from_text;
use crate::diag::{Diagnostic, Loc};
use crate::emit::owned_paths;
use crate::parse::read_text;
use crate::yaml;

/// Committed output, as read from its directory.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The directory as given, for reports.
    pub dir: String,
    /// Owned relative paths present, with their full text.
    pub files: Vec<(String, String)>,
    /// `values.yaml` parsed (`{}` when absent or empty).
    pub values: Value,
    /// Every document of `manifests/*.yaml`.
    pub manifests: Vec<Value>,
}

impl Committed {
    pub fn read(dir: &Path) -> Result<Committed, Vec<Diagnostic>> {
        if !dir.is_dir() {
            return Err(vec![
                Diagnostic::error(format!("`{}` is not a directory", dir.display()))
                    .help("give the directory `z2jh-policy compile -o DIR` wrote"),
            ]);
        }
        let mut errors = Vec::new();
        let mut files = Vec::new();
        let mut values = json!({});
        let mut manifests = Vec::new();
        for rel in owned_paths() {
            let path = dir.join(&rel);
            if !path.exists() {
                continue;
            }
            let text = match read_text(&path) {
                Ok(t) => t,
                Err(d) => {
                    errors.push(d);
                    continue;
                }
            };
            let name = path.display().to_string();
            if rel == "values.yaml" {
                match values_from_text(&name, text.clone()) {
                    Ok(f) => {
                        // Read as Helm reads it; say what Helm quietly resolved.
                        for w in &f.warnings {
                            eprintln!("{}", crate::diag::render_human(w));
                        }
                        values = f.doc.value;
                    }
                    Err(d) => errors.push(d),
                }
            } else {
                match yaml::parse_stream(&text) {
                    Ok(docs) => manifests.extend(docs.into_iter().filter(|d| !d.is_null())),
                    Err(e) => {
                        let d =
                            Diagnostic::error(format!("invalid YAML in `{name}`: {}", e.message));
                        errors.push(match e.pos {
                            Some(p) => d.at(Loc::new(&name, &text, p)),
                            None => d.at(Loc::file(&name)),
                        });
                    }
                }
            }
            files.push((rel, text));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Committed {
            dir: dir.display().to_string(),
            files,
            values,
            manifests,
        })
    }
}

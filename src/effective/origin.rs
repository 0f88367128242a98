//! Where a part of the effective deployment comes from, so that every
//! verdict can cite the key (or the line of Python) that decided it.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::Serialize;

use super::python::PyLine;
use crate::controls::dotted_values_path;

/// The keys of a values path. Copies share one list: every field of every
/// pod records where it was set, so origins are copied far more often
/// than they are made.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyPath(Arc<[String]>);

impl Deref for KeyPath {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.0
    }
}

impl From<Vec<String>> for KeyPath {
    fn from(keys: Vec<String>) -> KeyPath {
        KeyPath(keys.into())
    }
}

impl fmt::Debug for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for KeyPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Origin {
    /// A key of the merged values (list items as their index).
    Values { path: KeyPath },
    /// A statement of the hub's Python.
    Python(PyLine),
    /// A manifest passed beside the values: file, document index, and a
    /// path inside the document.
    Manifest {
        file: String,
        index: usize,
        path: Vec<String>,
    },
    /// Nothing sets it: KubeSpawner's or Kubernetes' own default.
    Default { what: String },
}

impl Origin {
    pub fn values<S: AsRef<str>>(path: &[S]) -> Origin {
        Origin::Values {
            path: path
                .iter()
                .map(|s| s.as_ref().to_string())
                .collect::<Vec<_>>()
                .into(),
        }
    }

    pub fn default(what: impl Into<String>) -> Origin {
        Origin::Default { what: what.into() }
    }

    /// Extends a values origin by more keys (e.g. an item of a list).
    pub fn child<S: AsRef<str>>(&self, more: &[S]) -> Origin {
        match self {
            Origin::Values { path } => {
                let mut p = Vec::with_capacity(path.len() + more.len());
                p.extend(path.iter().cloned());
                p.extend(more.iter().map(|s| s.as_ref().to_string()));
                Origin::Values { path: p.into() }
            }
            Origin::Manifest { file, index, path } => {
                let mut p = path.clone();
                p.extend(more.iter().map(|s| s.as_ref().to_string()));
                Origin::Manifest {
                    file: file.clone(),
                    index: *index,
                    path: p,
                }
            }
            other => other.clone(),
        }
    }

    /// A short human form: `singleuser.uid`, `hub.extraConfig.x line 3`, …
    pub fn describe(&self) -> String {
        match self {
            Origin::Values { path } => format!("`{}`", dotted_values_path(&path[..])),
            Origin::Python(l) => format!(
                "Python in `{}` line {}: `{}`",
                dotted_values_path(&l.path),
                l.line,
                l.text
            ),
            Origin::Manifest { file, index, path } => {
                if path.is_empty() {
                    format!("`{file}` document {}", index + 1)
                } else {
                    format!(
                        "`{file}` document {} at `{}`",
                        index + 1,
                        dotted_values_path(path)
                    )
                }
            }
            Origin::Default { what } => what.clone(),
        }
    }
}

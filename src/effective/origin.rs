//! Where a part of the effective deployment comes from, so that every
//! verdict can cite the key (or the line of Python) that decided it.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::Serialize;

use super::python::PyLine;
use crate::paths::dotted_values_path;

/// The keys of a values path. Copies share the list, and a child path
/// shares its parent's keys: every field of every pod records where it was
/// set, so origins are copied and extended far more often than made.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyPath(Arc<[Arc<str>]>);

impl KeyPath {
    /// Whether the path begins with `keys`.
    pub fn starts_with_keys<S: AsRef<str>>(&self, keys: &[S]) -> bool {
        self.len() >= keys.len() && self.iter().zip(keys).all(|(a, b)| **a == *b.as_ref())
    }

    /// The keys as strings.
    pub fn to_strings(&self) -> Vec<String> {
        self.iter().map(|k| k.to_string()).collect()
    }
}

impl Deref for KeyPath {
    type Target = [Arc<str>];
    fn deref(&self) -> &[Arc<str>] {
        &self.0
    }
}

impl fmt::Debug for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(|k| &**k)).finish()
    }
}

impl Serialize for KeyPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(|k| &**k))
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
            path: KeyPath(path.iter().map(|s| Arc::from(s.as_ref())).collect()),
        }
    }

    pub fn default(what: impl Into<String>) -> Origin {
        Origin::Default { what: what.into() }
    }

    /// Extends a values origin by more keys (e.g. an item of a list).
    pub fn child<S: AsRef<str>>(&self, more: &[S]) -> Origin {
        match self {
            Origin::Values { path } => Origin::Values {
                path: KeyPath(
                    path.iter()
                        .cloned()
                        .chain(more.iter().map(|s| Arc::from(s.as_ref())))
                        .collect(),
                ),
            },
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

//! File-level comparison: which files differ, with unified diffs of their
//! redacted text.
//!
//! Input: two file sets (relative path → text, header already removed).
//! Output: one [`FileChange`] per file that differs, in a fixed order (the
//! `before` order, then files only `after` has).

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use super::redact::Redactor;
use crate::emit::MARKER;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    /// Policies: produced by the new policy only.
    Added,
    /// Policies: produced by the old policy only.
    Removed,
    /// Drift: produced by the policy, not committed.
    Missing,
    /// Drift: committed, not produced by the policy.
    Extra,
    Changed,
}

impl FileStatus {
    pub fn describe(self) -> &'static str {
        match self {
            FileStatus::Added => "added",
            FileStatus::Removed => "removed",
            FileStatus::Missing => "missing: the policy produces it, but it is not committed",
            FileStatus::Extra => "extra: committed, but the policy does not produce it",
            FileStatus::Changed => "changed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    pub path: String,
    pub status: FileStatus,
    pub added_lines: usize,
    pub removed_lines: usize,
    /// Unified diff (`--- a/path`, `+++ b/path`, hunks), secrets redacted.
    pub diff: String,
}

/// Drops the generated-file header, so that a policy named by another path
/// (or another version of the tool) is not drift. Comments after it belong
/// to the file's body (the admission manifest lists what it cannot check).
pub fn strip_header(text: &str) -> &str {
    let mut rest = text;
    if rest.starts_with(MARKER) {
        rest = rest.split_once('\n').map_or("", |(_, r)| r);
        while rest.starts_with("# Do not edit") {
            rest = rest.split_once('\n').map_or("", |(_, r)| r);
        }
    }
    rest
}

/// Compares two file sets. `drift` names one-sided files missing/extra
/// instead of added/removed.
pub fn compare(
    before: &[(String, String)],
    after: &[(String, String)],
    context: usize,
    drift: bool,
) -> Vec<FileChange> {
    let mut paths: Vec<&str> = before.iter().map(|(p, _)| p.as_str()).collect();
    for (p, _) in after {
        if !paths.contains(&p.as_str()) {
            paths.push(p);
        }
    }
    let find = |set: &'_ [(String, String)], p: &str| {
        set.iter().find(|(q, _)| q == p).map(|(_, t)| t.clone())
    };
    // One redactor for both sides: a changed secret keeps a changed label.
    let mut redactor = Redactor::new();
    let mut out = Vec::new();
    for p in paths {
        let (old, new) = (find(before, p), find(after, p));
        let status = match (&old, &new, drift) {
            (None, Some(_), false) => FileStatus::Added,
            (None, Some(_), true) => FileStatus::Extra,
            (Some(_), None, false) => FileStatus::Removed,
            (Some(_), None, true) => FileStatus::Missing,
            (Some(a), Some(b), _) if a != b => FileStatus::Changed,
            _ => continue,
        };
        let a = old
            .as_deref()
            .map(|t| redactor.redact(t))
            .unwrap_or_default();
        let b = new
            .as_deref()
            .map(|t| redactor.redact(t))
            .unwrap_or_default();
        let diff = TextDiff::from_lines(&a, &b);
        let (mut added, mut removed) = (0, 0);
        for op in diff.iter_all_changes() {
            match op.tag() {
                ChangeTag::Insert => added += 1,
                ChangeTag::Delete => removed += 1,
                ChangeTag::Equal => {}
            }
        }
        let old_name = match old {
            Some(_) => format!("a/{p}"),
            None => "/dev/null".into(),
        };
        let new_name = match new {
            Some(_) => format!("b/{p}"),
            None => "/dev/null".into(),
        };
        let mut unified = diff
            .unified_diff()
            .context_radius(context)
            .missing_newline_hint(true)
            .header(&old_name, &new_name)
            .to_string();
        if !unified.ends_with('\n') && !unified.is_empty() {
            unified.push('\n');
        }
        out.push(FileChange {
            path: p.to_string(),
            status,
            added_lines: added,
            removed_lines: removed,
            diff: unified,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn missing_extra_and_changed() {
        let compiled = set(&[("values.yaml", "a: 1\n"), ("manifests/network.yaml", "x\n")]);
        let committed = set(&[("values.yaml", "a: 2\n"), ("manifests/rbac.yaml", "y\n")]);
        let v = compare(&compiled, &committed, 3, true);
        let got: Vec<(&str, FileStatus)> = v.iter().map(|f| (f.path.as_str(), f.status)).collect();
        assert_eq!(
            got,
            [
                ("values.yaml", FileStatus::Changed),
                ("manifests/network.yaml", FileStatus::Missing),
                ("manifests/rbac.yaml", FileStatus::Extra)
            ]
        );
        assert!(
            v[0].diff
                .starts_with("--- a/values.yaml\n+++ b/values.yaml\n")
        );
        assert_eq!((v[0].added_lines, v[0].removed_lines), (1, 1));
        assert!(v[1].diff.contains("+++ /dev/null"));
    }

    #[test]
    fn a_changed_secret_is_a_change_without_its_value() {
        let v = compare(
            &set(&[("values.yaml", "hub:\n  cookieSecret: aaa\n")]),
            &set(&[("values.yaml", "hub:\n  cookieSecret: bbb\n")]),
            3,
            false,
        );
        assert_eq!(v.len(), 1);
        assert!(!v[0].diff.contains("aaa") && !v[0].diff.contains("bbb"));
        assert!(
            v[0].diff.contains("-  cookieSecret: [redacted #1]"),
            "{}",
            v[0].diff
        );
        assert!(v[0].diff.contains("+  cookieSecret: [redacted #2]"));
    }

    #[test]
    fn the_header_is_not_drift() {
        assert_eq!(
            strip_header("# Generated by z2jh-policy 0.1.0 from `a`\n# Do not edit\nx: 1\n"),
            "x: 1\n"
        );
        assert_eq!(strip_header("# my notes\nx: 1\n"), "# my notes\nx: 1\n");
        assert_eq!(
            strip_header("# Generated by z2jh-policy 0.1.0\n# Do not edit\n# body\nx: 1\n"),
            "# body\nx: 1\n"
        );
    }
}

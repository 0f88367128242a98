//! File-level comparison: missing, extra and changed files with unified
//! diffs of their (redacted) bodies.

use serde::Serialize;
use similar::{Algorithm, TextDiff};

use super::redact::redact_text;
use crate::emit::{MARKER, Output};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    /// Produced now, absent before (in drift: missing from the committed files).
    Added,
    /// Present before, not produced now (in drift: an extra committed file).
    Removed,
    Changed,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    pub path: String,
    pub status: FileStatus,
    /// Unified diff, secrets redacted.
    pub diff: String,
    pub added_lines: usize,
    pub removed_lines: usize,
}

/// Relative path and body (header removed) of every output file.
pub fn bodies(out: &Output) -> Vec<(String, String)> {
    out.files.clone()
}

/// Drops the generated-file header so a different policy path on the
/// command line is not reported as drift.
pub fn strip_header(text: &str) -> &str {
    let mut rest = text;
    if rest.starts_with(MARKER) {
        while rest.starts_with('#') {
            rest = rest.split_once('\n').map_or("", |(_, r)| r);
        }
    }
    rest
}

/// Compares two file sets, in a fixed order (the `before` order, then new files).
pub fn compare(
    before: &[(String, String)],
    after: &[(String, String)],
    context: usize,
) -> Vec<FileChange> {
    let mut paths: Vec<&str> = before.iter().map(|(p, _)| p.as_str()).collect();
    for (p, _) in after {
        if !paths.contains(&p.as_str()) {
            paths.push(p);
        }
    }
    let find = |set: &[(String, String)], p: &str| {
        set.iter()
            .find(|(q, _)| q == p)
            .map(|(_, t)| redact_text(t))
    };
    let mut out = Vec::new();
    for p in paths {
        let (old, new) = (find(before, p), find(after, p));
        let status = match (&old, &new) {
            (None, Some(_)) => FileStatus::Added,
            (Some(_), None) => FileStatus::Removed,
            (Some(a), Some(b)) if a != b => FileStatus::Changed,
            _ => continue,
        };
        let (a, b) = (old.unwrap_or_default(), new.unwrap_or_default());
        let diff = TextDiff::configure()
            .algorithm(Algorithm::Myers)
            .diff_lines(&a, &b);
        let (mut added, mut removed) = (0, 0);
        for op in diff.iter_all_changes() {
            match op.tag() {
                similar::ChangeTag::Insert => added += 1,
                similar::ChangeTag::Delete => removed += 1,
                similar::ChangeTag::Equal => {}
            }
        }
        let old_name = if status == FileStatus::Added {
            "/dev/null".to_string()
        } else {
            format!("a/{p}")
        };
        let new_name = if status == FileStatus::Removed {
            "/dev/null".to_string()
        } else {
            format!("b/{p}")
        };
        let unified = diff
            .unified_diff()
            .context_radius(context)
            .header(&old_name, &new_name)
            .to_string();
        out.push(FileChange {
            path: p.to_string(),
            status,
            diff: unified,
            added_lines: added,
            removed_lines: removed,
        });
    }
    out
}

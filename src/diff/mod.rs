//! Diff mode for reviews and PR bots: what a change does to the generated
//! files and, above all, to security.
//!
//! Two comparisons: committed output against what the policy compiles to
//! (drift, including hand edits), and one policy against another (a pull
//! request). Every control change is classified from the control's own
//! strength order (`controls::ALL`), never from a separate table.

mod classify;
mod files;
pub mod git;
mod redact;
pub mod render;

use serde::Serialize;

pub use classify::{ControlChange, Direction, PostureRow, policy_changes};
pub use files::{FileChange, FileStatus};

use crate::compile::Compiled;
use crate::controls::ValuesView;

/// Everything a diff found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `drift` (committed files against the policy) or `policies` (base against head).
    pub mode: &'static str,
    pub before: String,
    pub after: String,
    pub posture: Vec<PostureRow>,
    pub controls: Vec<ControlChange>,
    pub files: Vec<FileChange>,
}

impl Report {
    pub fn has_differences(&self) -> bool {
        !self.files.is_empty() || !self.controls.is_empty()
    }

    pub fn count(&self, d: Direction) -> usize {
        self.controls.iter().filter(|c| c.direction == d).count()
    }
}

/// Compares what two policies compile to.
pub fn policies(base: &Compiled, head: &Compiled, context: usize) -> Report {
    Report {
        mode: "policies",
        before: base.loaded.origin.clone(),
        after: head.loaded.origin.clone(),
        posture: classify::posture_of_policies(&base.loaded.policy, &head.loaded.policy),
        controls: classify::policy_changes(&base.loaded.policy, &head.loaded.policy),
        files: files::compare(
            &files::bodies(&base.output),
            &files::bodies(&head.output),
            context,
        ),
    }
}

/// Compares committed files (`committed`: relative path → text) with what
/// the policy compiles to. The committed side is the "after": a hand edit
/// that weakens a control shows as a weakening, its lines as additions.
pub fn drift(
    compiled: &Compiled,
    committed: &[(String, String)],
    compiled_view: &ValuesView,
    committed_view: &ValuesView,
    dir: &str,
    context: usize,
) -> Report {
    let committed: Vec<(String, String)> = committed
        .iter()
        .map(|(p, t)| (p.clone(), files::strip_header(t).to_string()))
        .collect();
    Report {
        mode: "drift",
        before: format!("{} (compiled)", compiled.loaded.origin),
        after: format!("{}/ (committed)", dir.trim_end_matches('/')),
        posture: classify::posture_of_values(compiled_view, committed_view),
        controls: classify::read_back_changes(compiled_view, committed_view),
        files: files::compare(&files::bodies(&compiled.output), &committed, context),
    }
}

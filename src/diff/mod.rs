//! Diff mode for reviews and PR bots: what a change does to the generated
//! files and, above all, to security.
//!
//! Two comparisons, one [`Report`]:
//! - drift ([`drift`]): the committed output of `compile -o DIR` against
//!   what the policy compiles to now, hand edits included — the "before" is
//!   the policy's output, the "after" what is committed;
//! - policies ([`policies`]): what an old policy compiles to against a new
//!   one (a pull request).
//!
//! Every control change is classified from the control's own strength
//! order (`controls::ALL`), never from a separate table. Rendering lives in
//! [`render`]; reading a policy from a git revision in [`git`]; choosing
//! what to compare from a [`Request`] in [`build`].

mod classify;
mod committed;
pub mod exceptions;
mod files;
pub mod git;
mod posture;
pub(crate) mod redact;
pub mod render;
mod request;

use serde::Serialize;
use serde_json::{Value, json};

pub use classify::{ControlChange, Direction, policy_changes, read_back_changes};
pub use committed::Committed;
pub use files::{FileChange, FileStatus};
pub use posture::PostureRow;
pub use redact::Redactor;
pub use request::{Request, build};

use crate::chart::{ChartDir, ChartLine};
use crate::compile::Compiled;
use crate::controls::ValuesView;
use crate::values::helm_merge;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Committed files against the policy.
    Drift,
    /// An old policy against a new one.
    Policies,
}

/// Everything a diff found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub mode: Mode,
    /// What the comparison starts from (old policy, or the policy's output in drift).
    pub before: String,
    /// What it arrives at (new policy, or the committed files in drift).
    pub after: String,
    pub posture: Vec<PostureRow>,
    /// Weakenings first.
    pub controls: Vec<ControlChange>,
    pub files: Vec<FileChange>,
    /// Exceptions added, removed or changed (policies only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<exceptions::ExceptionChange>,
    /// Exceptions of the new side that expire within `expiringWithin` days.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expiring: Vec<crate::exceptions::View>,
    #[serde(rename = "expiringWithin")]
    pub expiring_within: i64,
    /// Drift only: the command that brings the committed files up to date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regenerate: Option<String>,
}

impl Report {
    pub fn has_differences(&self) -> bool {
        !self.files.is_empty() || !self.controls.is_empty() || !self.exceptions.is_empty()
    }

    pub fn count(&self, d: Direction) -> usize {
        self.controls.iter().filter(|c| c.direction == d).count()
    }

    /// Exceptions added or widened (a later expiry, a weaker `allow`).
    pub fn exceptions_widened(&self) -> usize {
        self.exceptions
            .iter()
            .filter(|e| e.direction == Direction::Weakens)
            .count()
    }

    /// A control is weaker, or an exception was added or widened.
    pub fn weakens(&self) -> bool {
        self.count(Direction::Weakens) > 0 || self.exceptions_widened() > 0
    }

    /// Fills in the exception changes and the exceptions that expire within
    /// `days` of `today` (`base`: `None` in drift, where only the policy is known).
    pub fn with_exceptions(
        mut self,
        base: Option<&crate::policy::Policy>,
        head: &crate::policy::Policy,
        today: crate::exceptions::Date,
        days: i64,
    ) -> Report {
        if let Some(base) = base {
            self.exceptions = exceptions::changes(base, head, today);
        }
        self.expiring = exceptions::expiring(head, today, days);
        self.expiring_within = days;
        self
    }
}

/// Compares what two policies compile to.
pub fn policies(base: &Compiled, head: &Compiled, context: usize) -> Report {
    Report {
        mode: Mode::Policies,
        before: base.loaded.origin.clone(),
        after: head.loaded.origin.clone(),
        posture: posture::of_policies(&base.loaded.policy, &head.loaded.policy),
        controls: policy_changes(&base.loaded.policy, &head.loaded.policy),
        files: files::compare(&base.output.files, &head.output.files, context, false),
        exceptions: Vec::new(),
        expiring: Vec::new(),
        expiring_within: crate::exceptions::DEFAULT_EXPIRING_WITHIN,
        regenerate: None,
    }
}

/// A policy that did not exist before (`before` names where it was looked
/// for): every file is added; no control had a state to weaken.
pub fn new_policy(before: String, head: &Compiled, context: usize) -> Report {
    let mut posture = posture::of_policies(&head.loaded.policy, &head.loaded.policy);
    for row in &mut posture {
        row.before = "(no policy)".into();
    }
    Report {
        mode: Mode::Policies,
        before,
        after: head.loaded.origin.clone(),
        posture,
        controls: Vec::new(),
        files: files::compare(&[], &head.output.files, context, false),
        exceptions: Vec::new(),
        expiring: Vec::new(),
        expiring_within: crate::exceptions::DEFAULT_EXPIRING_WITHIN,
        regenerate: None,
    }
}

/// Values as Helm sees them: `values` over the chart defaults (over `{}`
/// without a chart folder; each read-back then assumes the chart's default
/// for a missing key).
fn over_defaults(defaults: &Value, values: &Value) -> Value {
    let mut v = json!({});
    for layer in [defaults, values] {
        if layer.is_object() {
            helm_merge(&mut v, layer);
        }
    }
    v
}

/// Compares committed files with what the policy compiles to; controls are
/// read back from both sides' values and manifests. `regenerate` is the
/// command that rewrites the committed files, for the report.
pub fn drift(
    compiled: &Compiled,
    committed: &Committed,
    chart: Option<&ChartDir>,
    context: usize,
    regenerate: String,
) -> Report {
    let defaults = chart.map_or(Value::Null, |c| over_defaults(&Value::Null, &c.defaults));
    let line = ChartLine::of(&compiled.loaded.policy.chart);
    let compiled_values = over_defaults(&defaults, &compiled.rendered.values);
    let committed_values = over_defaults(&defaults, &committed.values);
    let compiled_manifests = compiled.rendered.manifest_objects();
    let before = ValuesView {
        values: &compiled_values,
        defaults: &defaults,
        manifests: Some(&compiled_manifests),
        chart: line,
        more: Default::default(),
    };
    let after = ValuesView {
        values: &committed_values,
        defaults: &defaults,
        manifests: Some(&committed.manifests),
        chart: line,
        more: Default::default(),
    };
    let committed_bodies: Vec<(String, String)> = committed
        .files
        .iter()
        .map(|(p, t)| (p.clone(), files::strip_header(t).to_string()))
        .collect();
    // Files written with `compile --annotate` are compared with the annotated form.
    let annotated = committed_bodies
        .iter()
        .any(|(p, t)| p == "values.yaml" && t.lines().any(|l| l.trim_start().starts_with('#')));
    let mut produced = compiled.output.files.clone();
    if annotated {
        for (p, body) in &mut produced {
            if p == "values.yaml" {
                *body = crate::explain::annotate::values_yaml(compiled);
            }
        }
    }
    Report {
        mode: Mode::Drift,
        before: compiled.loaded.origin.clone(),
        after: format!("{}/", committed.dir.trim_end_matches('/')),
        posture: posture::of_values(&before, &after),
        controls: read_back_changes(&before, &after),
        files: files::compare(&produced, &committed_bodies, context, true),
        exceptions: Vec::new(),
        expiring: Vec::new(),
        expiring_within: crate::exceptions::DEFAULT_EXPIRING_WITHIN,
        regenerate: Some(regenerate),
    }
}

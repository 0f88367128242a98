//! Diff reports as text (terminals, CI logs), Markdown (PR comments) and
//! JSON (other tools). Each renderer takes a [`Report`] and returns the
//! whole output; none of them changes what the report says.

mod markdown;
mod text;

pub use markdown::{MarkdownOptions, markdown};
pub use text::text;

use serde::Serialize;

use super::{Direction, Mode, Report};

/// Version of the JSON shape (`docs/diff.md` describes it).
pub const JSON_VERSION: u32 = 1;

/// The hidden first line a bot searches for to update its own comment.
pub fn marker(name: Option<&str>) -> String {
    match name {
        // `--` would end the HTML comment early.
        Some(n) => format!("<!-- z2jh-policy diff: {} -->", n.replace("--", "- -")),
        None => "<!-- z2jh-policy diff -->".into(),
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// What the report says, in one sentence.
pub(crate) fn verdict(r: &Report) -> &'static str {
    match (r.mode, r.has_differences(), r.weakens()) {
        (Mode::Drift, false, _) => "the committed output matches the policy",
        (Mode::Drift, true, true) => "the committed output is weaker than the policy",
        (Mode::Drift, true, false) => "the committed output differs from the policy (no weakening)",
        (Mode::Policies, false, _) => "no differences",
        (Mode::Policies, true, true) => "this change weakens security",
        (Mode::Policies, true, false) => "this change does not weaken security",
    }
}

/// Counts: controls by direction, then files.
pub(crate) fn counts(r: &Report) -> String {
    let mut s = format!(
        "{} weakened, {} strengthened, {} neutral; {} differ{}",
        plural(r.count(Direction::Weakens), "control"),
        r.count(Direction::Strengthens),
        r.count(Direction::Neutral),
        plural(r.files.len(), "file"),
        if r.files.len() == 1 { "s" } else { "" }
    );
    if !r.exceptions.is_empty() {
        s.push_str(&format!(
            "; {} ({} added or widened)",
            plural(r.exceptions.len(), "exception change"),
            r.exceptions_widened()
        ));
    }
    s
}

/// One line per exception change: what and which way.
pub(crate) fn exception_lines(r: &Report) -> Vec<(Direction, String)> {
    r.exceptions
        .iter()
        .map(|e| {
            (
                e.direction,
                format!("`{}` for {}: {}", e.control, e.scope, e.what.join("; ")),
            )
        })
        .collect()
}

/// The expiring list's heading.
pub(crate) fn expiring_heading(r: &Report) -> String {
    format!("Exceptions expiring within {} days", r.expiring_within)
}

/// What the two sides are.
pub(crate) fn sides(r: &Report) -> (&'static str, &'static str) {
    match r.mode {
        Mode::Drift => ("policy", "committed"),
        Mode::Policies => ("before", "after"),
    }
}

#[derive(Serialize)]
struct Summary {
    differences: bool,
    weakens: usize,
    strengthens: usize,
    neutral: usize,
    files: usize,
    /// Exceptions added or widened: they count like weakenings in the gate.
    #[serde(rename = "exceptionsWidened")]
    exceptions_widened: usize,
    /// Exceptions of the new side expiring within `expiringWithin` days.
    expiring: usize,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    verdict: &'static str,
    summary: Summary,
    #[serde(flatten)]
    report: &'a Report,
}

/// The report as data, for other tools.
pub fn json(r: &Report) -> String {
    let doc = JsonReport {
        version: JSON_VERSION,
        verdict: verdict(r),
        summary: Summary {
            differences: r.has_differences(),
            weakens: r.count(Direction::Weakens),
            strengthens: r.count(Direction::Strengthens),
            neutral: r.count(Direction::Neutral),
            files: r.files.len(),
            exceptions_widened: r.exceptions_widened(),
            expiring: r.expiring.len(),
        },
        report: r,
    };
    // Serialising plain structs of strings and numbers cannot fail.
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

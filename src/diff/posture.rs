//! The posture summary that heads every report: what a reviewer asks first.
//!
//! Input: two policies, or two sets of values read back. Output: rows for
//! the Pod Security level the user pods meet (from
//! `controls::pod_security::implied_level`), then the controls that decide
//! the namespace's enforced level, API access, metadata blocking, egress
//! reach, storage isolation and resources — each shown by its own setting
//! names and compared by its own ranks.

use serde::Serialize;

use super::classify::{Direction, State};
use crate::controls::pod_security::implied_level;
use crate::controls::{ALL, Control, ValuesView, by_id};
use crate::policy::{Policy, PsaLevel};

/// Controls in the summary, in reading order (their titles label the rows).
const CONTROLS: &[&str] = &[
    "pod-security-admission",
    "api-access",
    "cloud-metadata",
    "egress",
    "storage",
    "resources",
];

/// One line of the posture summary.
#[derive(Debug, Clone, Serialize)]
pub struct PostureRow {
    pub aspect: String,
    /// The control behind the row; absent for the user pods' level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<&'static str>,
    pub before: String,
    pub after: String,
    /// `null` when unchanged.
    pub direction: Option<Direction>,
}

fn level_row(before: PsaLevel, after: PsaLevel) -> PostureRow {
    PostureRow {
        aspect: "User pods meet Pod Security level".into(),
        control: None,
        before: before.as_str().into(),
        after: after.as_str().into(),
        direction: (before != after).then(|| {
            // PsaLevel orders strongest first, like ranks.
            Direction::of_ranks(Some(before as u8), Some(after as u8))
        }),
    }
}

fn control_row(c: &dyn Control, before: State, after: State) -> PostureRow {
    PostureRow {
        aspect: c.def().title.into(),
        control: Some(c.def().id),
        direction: (before != after).then(|| Direction::of_ranks(before.rank, after.rank)),
        before: before.label(),
        after: after.label(),
    }
}

fn controls() -> impl Iterator<Item = &'static dyn Control> {
    CONTROLS.iter().filter_map(|id| by_id(id))
}

/// Posture of two policies.
pub fn of_policies(base: &Policy, head: &Policy) -> Vec<PostureRow> {
    std::iter::once(level_row(implied_level(base).0, implied_level(head).0))
        .chain(controls().map(|c| {
            let def = c.def();
            control_row(
                c,
                State::of(def, &c.selected(base)),
                State::of(def, &c.selected(head)),
            )
        }))
        .collect()
}

/// The level the user pods meet under a set of values: every control
/// proposes its read-back setting into `policy`, then the policy's own rule
/// decides the level.
fn level_of_values(policy: &Policy, v: &ValuesView) -> PsaLevel {
    let mut p = policy.clone();
    for c in ALL {
        c.propose(v, &mut p);
    }
    implied_level(&p).0
}

/// Posture read back from two sets of values; `policy` is the compiled one,
/// the starting point for what values cannot say.
pub fn of_values(policy: &Policy, before: &ValuesView, after: &ValuesView) -> Vec<PostureRow> {
    std::iter::once(level_row(
        level_of_values(policy, before),
        level_of_values(policy, after),
    ))
    .chain(
        controls().map(|c| control_row(c, State::read_back(c, before), State::read_back(c, after))),
    )
    .collect()
}

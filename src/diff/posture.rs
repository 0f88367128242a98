//! The posture summary that heads every report: what a reviewer asks first.
//!
//! Input: two policies, or two sets of values read back. Output: rows for
//! the Pod Security level the user pods meet, the namespace's enforced
//! level, API access, metadata blocking, egress reach, storage isolation
//! and resources — each shown by its own setting names and compared by its
//! own ranks.

use serde::Serialize;

use super::classify::Direction;
use crate::controls::{Control, POSTURE, SettingView, ValuesView};
use crate::policy::Policy;

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

fn control_row(c: &dyn Control, before: SettingView, after: SettingView) -> PostureRow {
    PostureRow {
        aspect: c.def().title.into(),
        control: Some(c.def().id),
        direction: (before != after).then(|| Direction::of_ranks(before.rank, after.rank)),
        before: before.label(),
        after: after.label(),
    }
}

fn controls() -> impl Iterator<Item = &'static dyn Control> {
    POSTURE.iter().copied()
}

/// Posture of two policies.
pub fn of_policies(base: &Policy, head: &Policy) -> Vec<PostureRow> {
    controls()
        .map(|c| {
            let def = c.def();
            control_row(
                c,
                SettingView::of(def, &c.selected(base)),
                SettingView::of(def, &c.selected(head)),
            )
        })
        .collect()
}

/// Posture read back from two sets of values.
pub fn of_values(before: &ValuesView, after: &ValuesView) -> Vec<PostureRow> {
    controls()
        .map(|c| {
            control_row(
                c,
                SettingView::read_back(c, before),
                SettingView::read_back(c, after),
            )
        })
        .collect()
}

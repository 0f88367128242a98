//! Security classification of a change, from each control's strength order.
//!
//! Input: the setting each control selects on both sides — from two policies
//! (`Control::selected`) or read back from two sets of values
//! (`Control::read_back`). Output: one [`ControlChange`] per control whose
//! setting differs, classified by the settings' `rank` (0 is strongest):
//! a higher rank weakens, a lower one strengthens, an equal one is neutral.

use serde::{Serialize, Serializer};

use crate::controls::{ALL, Control, SettingView, ValuesView};
use crate::policy::Policy;

pub use crate::controls::judge::Direction;

/// A control's state on one side of a comparison, as diff reports have
/// always written it: the name as `setting`, the rank after the detail.
fn state_json<S: Serializer>(v: &SettingView, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct State<'a> {
        setting: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<&'a str>,
        /// `null` when it cannot be verified.
        rank: Option<u8>,
        summary: &'a str,
    }
    State {
        setting: v.name,
        detail: v.detail.as_deref(),
        rank: v.rank,
        summary: &v.summary,
    }
    .serialize(s)
}

/// One control whose state differs.
#[derive(Debug, Clone, Serialize)]
pub struct ControlChange {
    pub control: &'static str,
    pub title: &'static str,
    /// The policy field that selects the setting, dotted.
    pub field: String,
    pub direction: Direction,
    #[serde(serialize_with = "state_json")]
    pub before: SettingView,
    #[serde(serialize_with = "state_json")]
    pub after: SettingView,
    /// Why the control matters, on one line.
    pub rationale: String,
}

/// The control's rationale on one line.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn change(c: &dyn Control, before: SettingView, after: SettingView) -> Option<ControlChange> {
    if before == after {
        return None;
    }
    let def = c.def();
    let mut direction = Direction::of_ranks(before.rank, after.rank);
    if direction == Direction::Neutral && before.rank.is_some() && before.name == after.name {
        direction = c
            .detail_direction(before.detail.as_deref(), after.detail.as_deref())
            .unwrap_or(direction);
    }
    Some(ControlChange {
        control: def.id,
        title: def.title,
        field: def.dotted_field(),
        direction,
        before,
        after,
        rationale: one_line(def.rationale),
    })
}

/// Weakenings first, then strengthenings, then neutral; `ALL` order within.
fn ordered(mut v: Vec<ControlChange>) -> Vec<ControlChange> {
    v.sort_by_key(|c| c.direction);
    v
}

/// Control changes between two policies.
pub fn policy_changes(base: &Policy, head: &Policy) -> Vec<ControlChange> {
    ordered(
        ALL.iter()
            .filter_map(|c| {
                let def = c.def();
                change(
                    *c,
                    SettingView::of(def, &c.selected(base)),
                    SettingView::of(def, &c.selected(head)),
                )
            })
            .collect(),
    )
}

/// Control changes from the state `before` values put in force to the state
/// `after` values do. A control that neither side lets us verify is left out.
pub fn read_back_changes(before: &ValuesView, after: &ValuesView) -> Vec<ControlChange> {
    ordered(
        ALL.iter()
            .filter_map(|c| {
                let (old, new) = (
                    SettingView::read_back(*c, before),
                    SettingView::read_back(*c, after),
                );
                if old.rank.is_none() && new.rank.is_none() {
                    return None;
                }
                change(*c, old, new)
            })
            .collect(),
    )
}

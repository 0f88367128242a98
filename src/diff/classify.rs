//! Security classification of a change, from each control's strength order.
//!
//! Input: the setting each control selects on both sides — from two policies
//! (`Control::selected`) or read back from two sets of values
//! (`Control::read_back`). Output: one [`ControlChange`] per control whose
//! setting differs, classified by the settings' `rank` (0 is strongest):
//! a higher rank weakens, a lower one strengthens, an equal one is neutral.

use serde::Serialize;

use crate::controls::{ALL, Control, ControlDef, ReadBack, ValuesView};
use crate::plan::Selected;
use crate::policy::Policy;

pub use crate::controls::judge::Direction;

/// A control's state on one side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct State {
    /// The setting's name, or `cannot-verify`.
    pub setting: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The setting's strength (0 strongest); `null` when it cannot be verified.
    pub rank: Option<u8>,
    /// What the setting does, in one line.
    pub summary: String,
}

impl State {
    pub fn of(def: &ControlDef, s: &Selected) -> State {
        let setting = def.setting(s);
        State {
            setting: setting.name.to_string(),
            detail: s.detail.clone(),
            rank: Some(setting.rank),
            summary: setting.summary.to_string(),
        }
    }

    pub fn read_back(c: &dyn Control, v: &ValuesView) -> State {
        match c.read_back(v) {
            ReadBack::Setting(s) => State::of(c.def(), &s),
            ReadBack::CannotVerify { reason } => State {
                setting: "cannot-verify".into(),
                detail: None,
                rank: None,
                summary: reason,
            },
        }
    }

    /// `name (detail)`, as tables show it.
    pub fn label(&self) -> String {
        match &self.detail {
            Some(d) => format!("{} ({d})", self.setting),
            None => self.setting.clone(),
        }
    }
}

/// One control whose state differs.
#[derive(Debug, Clone, Serialize)]
pub struct ControlChange {
    pub control: &'static str,
    pub title: &'static str,
    /// The policy field that selects the setting, dotted.
    pub field: String,
    pub direction: Direction,
    pub before: State,
    pub after: State,
    /// Why the control matters, on one line.
    pub rationale: String,
}

/// The control's rationale on one line.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn change(c: &dyn Control, before: State, after: State) -> Option<ControlChange> {
    if before == after {
        return None;
    }
    let def = c.def();
    let mut direction = Direction::of_ranks(before.rank, after.rank);
    if direction == Direction::Neutral && before.rank.is_some() && before.setting == after.setting {
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
                    State::of(def, &c.selected(base)),
                    State::of(def, &c.selected(head)),
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
                let (old, new) = (State::read_back(*c, before), State::read_back(*c, after));
                if old.rank.is_none() && new.rank.is_none() {
                    return None;
                }
                change(*c, old, new)
            })
            .collect(),
    )
}

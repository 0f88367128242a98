//! The one comparison of two settings of a control, by the strength order of
//! its definition (rank 0 is strongest). `lower` (a policy weakening its
//! parent), `diff` (a change), `assess` (values against a policy) and
//! `terraform` (base values under a policy) all ask this module, so a
//! setting means the same strength everywhere.

use serde::Serialize;

use super::ControlDef;
use crate::plan::Selected;

/// Which way a change moves a control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Weakens,
    Strengthens,
    /// Same strength, different setting or detail (e.g. another capacity).
    Neutral,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Weakens => "weakens",
            Direction::Strengthens => "strengthens",
            Direction::Neutral => "neutral",
        }
    }

    /// From the ranks of the old and new state (`None`: cannot be verified).
    pub fn of_ranks(old: Option<u8>, new: Option<u8>) -> Direction {
        match (old, new) {
            (Some(o), Some(n)) if n > o => Direction::Weakens,
            (Some(o), Some(n)) if n < o => Direction::Strengthens,
            // A control that was verifiable and no longer is has lost its guarantee.
            (Some(_), None) => Direction::Weakens,
            _ => Direction::Neutral,
        }
    }

    /// From one setting to another (`None`: cannot be verified).
    pub fn of(def: &ControlDef, old: Option<&Selected>, new: Option<&Selected>) -> Direction {
        Direction::of_ranks(rank(def, old), rank(def, new))
    }
}

/// How bad a finding is, from the rank gap between the setting found and
/// the one required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
    /// Could not be judged.
    Info,
}

impl Severity {
    /// Two or more ranks weaker is high; one rank down to the control's
    /// weakest setting (the control is off) is medium; any other step is low.
    pub fn of(def: &ControlDef, want: &Selected, got: &Selected) -> Severity {
        let (w, g) = (def.setting(want).rank, def.setting(got).rank);
        match g.saturating_sub(w) {
            0 => Severity::Info,
            1 if g < def.weakest_rank() => Severity::Low,
            1 => Severity::Medium,
            _ => Severity::High,
        }
    }

    /// A violation's severity: [`Severity::of`], except that privileged
    /// containers and exposure of private addresses or other users' files
    /// (`exposes`) are high whatever the rank gap.
    pub fn found(def: &ControlDef, want: &Selected, got: &Selected, exposes: bool) -> Severity {
        let privileged = got
            .detail
            .as_deref()
            .is_some_and(|d| d.starts_with("privileged") || d.contains(" is privileged"));
        if exposes || privileged {
            Severity::High
        } else {
            Severity::of(def, want, got)
        }
    }

    /// The severity of a control switched from its strongest setting to its
    /// weakest: what the rule stands for in code-scanning tools.
    pub fn worst(def: &ControlDef) -> Severity {
        let strongest = def.settings.iter().map(|s| s.rank).min().unwrap_or(0);
        match def.weakest_rank().saturating_sub(strongest) {
            0 => Severity::Info,
            1 => Severity::Medium,
            _ => Severity::High,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

fn rank(def: &ControlDef, s: Option<&Selected>) -> Option<u8> {
    s.map(|s| def.setting(s).rank)
}

/// `got` is at least as strong as `want`.
pub fn meets(def: &ControlDef, want: &Selected, got: &Selected) -> bool {
    def.setting(got).rank <= def.setting(want).rank
}

/// `new` is weaker than `old`.
pub fn weaker(def: &ControlDef, old: &Selected, new: &Selected) -> bool {
    def.setting(new).rank > def.setting(old).rank
}

/// The setting asks for nothing: the control's weakest setting.
pub fn requires_nothing(def: &ControlDef, want: &Selected) -> bool {
    def.setting(want).rank >= def.weakest_rank()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::ALL;

    #[test]
    fn directions_follow_ranks() {
        assert_eq!(Direction::of_ranks(Some(0), Some(1)), Direction::Weakens);
        assert_eq!(
            Direction::of_ranks(Some(2), Some(1)),
            Direction::Strengthens
        );
        assert_eq!(Direction::of_ranks(Some(1), Some(1)), Direction::Neutral);
        assert_eq!(Direction::of_ranks(Some(0), None), Direction::Weakens);
        assert_eq!(Direction::of_ranks(None, Some(0)), Direction::Neutral);
    }

    #[test]
    fn every_control_agrees_with_itself() {
        for c in ALL {
            let def = c.def();
            for a in def.settings {
                for b in def.settings {
                    let (x, y) = (a.selected(), b.selected());
                    let d = Direction::of(def, Some(&x), Some(&y));
                    // Weakening from x to y is exactly y not meeting x.
                    assert_eq!(d == Direction::Weakens, !meets(def, &x, &y), "{}", def.id);
                    assert_eq!(d == Direction::Weakens, weaker(def, &x, &y), "{}", def.id);
                    // A finding has a severity exactly when the setting falls short.
                    assert_eq!(
                        Severity::of(def, &x, &y) != Severity::Info,
                        !meets(def, &x, &y),
                        "{}",
                        def.id
                    );
                    assert!(
                        Severity::of(def, &x, &y) >= Severity::worst(def) || meets(def, &x, &y)
                    );
                }
            }
        }
    }
}

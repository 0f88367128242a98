//! Security classification of a change, from each control's strength order.

use serde::Serialize;

use crate::controls::pod_security::implied_level;
use crate::controls::{ALL, ControlDef, ReadBack, ValuesView};
use crate::plan::Selected;
use crate::policy::Policy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Weakens,
    Strengthens,
    /// Same strength, different setting (e.g. another seccomp profile).
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
}

/// One control whose setting differs.
#[derive(Debug, Clone, Serialize)]
pub struct ControlChange {
    pub control: &'static str,
    pub title: &'static str,
    /// The policy field that selects the setting.
    pub field: String,
    pub before: String,
    pub after: String,
    pub direction: Direction,
    pub rationale: String,
}

/// One line of the posture summary.
#[derive(Debug, Clone, Serialize)]
pub struct PostureRow {
    pub aspect: &'static str,
    pub before: String,
    pub after: String,
}

/// Controls shown in the posture summary, with the label reviewers read.
const POSTURE: &[(&str, &str)] = &[
    ("Kubernetes API access", "api-access"),
    ("Cloud metadata", "cloud-metadata"),
    ("Egress reach", "egress"),
    ("Storage isolation", "storage"),
    ("Resource limits", "resources"),
    ("Namespace Pod Security", "pod-security-admission"),
];

fn describe(def: &ControlDef, s: &Selected) -> String {
    let name = def.setting(s).name;
    match &s.detail {
        Some(d) => format!("{name} ({d})"),
        None => name.to_string(),
    }
}

fn classify(def: &'static ControlDef, old: &Selected, new: &Selected) -> Option<ControlChange> {
    if old == new {
        return None;
    }
    let (o, n) = (def.setting(old), def.setting(new));
    let direction = match n.rank.cmp(&o.rank) {
        std::cmp::Ordering::Greater => Direction::Weakens,
        std::cmp::Ordering::Less => Direction::Strengthens,
        std::cmp::Ordering::Equal => Direction::Neutral,
    };
    Some(ControlChange {
        control: def.id,
        title: def.title,
        field: def.dotted_field(),
        before: describe(def, old),
        after: describe(def, new),
        direction,
        rationale: def
            .rationale
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    })
}

/// Control changes between two policies, weakenings first.
pub fn policy_changes(base: &Policy, head: &Policy) -> Vec<ControlChange> {
    let mut v: Vec<ControlChange> = ALL
        .iter()
        .filter_map(|c| classify(c.def(), &c.selected(base), &c.selected(head)))
        .collect();
    v.sort_by_key(|c| c.direction as u8);
    v
}

/// Control changes from the state `before` values put in force to the state
/// `after` values do; controls that cannot be read statically on either
/// side are left out.
pub fn read_back_changes(before: &ValuesView, after: &ValuesView) -> Vec<ControlChange> {
    let mut v: Vec<ControlChange> = ALL
        .iter()
        .filter_map(|c| match (c.read_back(before), c.read_back(after)) {
            (ReadBack::Setting(old), ReadBack::Setting(new)) => classify(c.def(), &old, &new),
            _ => None,
        })
        .collect();
    v.sort_by_key(|c| c.direction as u8);
    v
}

fn posture_setting(c: &dyn crate::controls::Control, s: &Selected) -> String {
    describe(c.def(), s)
}

/// Posture of two policies: the user pods' Pod Security level first.
pub fn posture_of_policies(base: &Policy, head: &Policy) -> Vec<PostureRow> {
    let mut rows = vec![PostureRow {
        aspect: "User pods meet Pod Security",
        before: implied_level(base).0.as_str().into(),
        after: implied_level(head).0.as_str().into(),
    }];
    for (label, id) in POSTURE {
        if let Some(c) = crate::controls::by_id(id) {
            rows.push(PostureRow {
                aspect: label,
                before: posture_setting(c, &c.selected(base)),
                after: posture_setting(c, &c.selected(head)),
            });
        }
    }
    rows
}

/// Posture read back from two sets of values.
pub fn posture_of_values(before: &ValuesView, after: &ValuesView) -> Vec<PostureRow> {
    let show = |c: &dyn crate::controls::Control, v: &ValuesView| match c.read_back(v) {
        ReadBack::Setting(s) => posture_setting(c, &s),
        ReadBack::CannotVerify { .. } => "cannot verify".into(),
    };
    POSTURE
        .iter()
        .filter_map(|(label, id)| {
            crate::controls::by_id(id).map(|c| PostureRow {
                aspect: label,
                before: show(c, before),
                after: show(c, after),
            })
        })
        .collect()
}

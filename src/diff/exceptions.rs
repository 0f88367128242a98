//! What a change does to a policy's exceptions: added, removed, changed
//! (a later expiry or a weaker `allow` widens one), and which exceptions of
//! the new side expire soon. An exception is known by its control and
//! scope; the n-th of a kind on one side pairs with the n-th on the other.
//!
//! A widening change (an added exception, a later expiry, a weaker
//! `allow`) weakens the policy and counts like a weakened control in the
//! gate (`--fail-on weaken`).

use serde::Serialize;

use super::Direction;
use crate::exceptions::{self, Date, Listed, View};
use crate::policy::Policy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Added,
    Removed,
    Changed,
}

/// One exception that differs between the two sides.
#[derive(Debug, Clone, Serialize)]
pub struct ExceptionChange {
    pub kind: Kind,
    pub direction: Direction,
    pub control: &'static str,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<View>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<View>,
    /// What changed, in words (`expires 2027-01-31 → 2027-06-30`).
    pub what: Vec<String>,
}

fn key(l: &Listed) -> (&'static str, Option<String>) {
    (l.def.id, l.profile().map(str::to_string))
}

/// Exception changes from `base` to `head`, widening ones first.
pub fn changes(base: &Policy, head: &Policy, today: Date) -> Vec<ExceptionChange> {
    let old = exceptions::listed(base);
    let new = exceptions::listed(head);
    let mut used = vec![false; old.len()];
    let mut out = Vec::new();
    for n in &new {
        let paired = old
            .iter()
            .enumerate()
            .find(|(i, o)| !used[*i] && key(o) == key(n));
        match paired {
            None => out.push(ExceptionChange {
                kind: Kind::Added,
                direction: Direction::Weakens,
                control: n.def.id,
                scope: n.scope_label(),
                before: None,
                after: Some(n.view(Some(today))),
                what: vec![format!(
                    "added, allows `{}` until {}",
                    n.allow.name, n.expires
                )],
            }),
            Some((i, o)) => {
                used[i] = true;
                if let Some(c) = changed(o, n, today) {
                    out.push(c);
                }
            }
        }
    }
    for (o, _) in old.iter().zip(&used).filter(|(_, u)| !**u) {
        out.push(ExceptionChange {
            kind: Kind::Removed,
            direction: Direction::Strengthens,
            control: o.def.id,
            scope: o.scope_label(),
            before: Some(o.view(Some(today))),
            after: None,
            what: vec!["removed".into()],
        });
    }
    out.sort_by_key(|c| c.direction);
    out
}

fn changed(o: &Listed, n: &Listed, today: Date) -> Option<ExceptionChange> {
    let mut what = Vec::new();
    let mut wider = false;
    let mut narrower = false;
    if o.expires != n.expires {
        what.push(format!("expires {} → {}", o.expires, n.expires));
        wider |= n.expires > o.expires;
        narrower |= n.expires < o.expires;
    }
    if !std::ptr::eq(o.allow, n.allow) {
        what.push(format!("allow `{}` → `{}`", o.allow.name, n.allow.name));
        wider |= n.allow.rank > o.allow.rank;
        narrower |= n.allow.rank < o.allow.rank;
    }
    if o.exception.reason != n.exception.reason {
        what.push("reason reworded".into());
    }
    if o.exception.owner != n.exception.owner {
        what.push(format!(
            "owner `{}` → `{}`",
            o.exception.owner, n.exception.owner
        ));
    }
    if what.is_empty() {
        return None;
    }
    let direction = match (wider, narrower) {
        (true, _) => Direction::Weakens,
        (false, true) => Direction::Strengthens,
        (false, false) => Direction::Neutral,
    };
    Some(ExceptionChange {
        kind: Kind::Changed,
        direction,
        control: n.def.id,
        scope: n.scope_label(),
        before: Some(o.view(Some(today))),
        after: Some(n.view(Some(today))),
        what,
    })
}

/// The exceptions of `policy` that expire within `days` of `today` (or
/// have expired), soonest first.
pub fn expiring(policy: &Policy, today: Date, days: i64) -> Vec<View> {
    let mut v: Vec<View> = exceptions::listed(policy)
        .iter()
        .filter(|l| l.days_left(today) <= days)
        .map(|l| l.view(Some(today)))
        .collect();
    v.sort_by_key(|e| e.days_left);
    v
}

/// `capabilities` for the whole hub, `until 2027-01-31 (12 days left)`.
pub fn describe(e: &View) -> String {
    let when = exceptions::left(e.days_left.unwrap_or_default());
    format!(
        "`{}` for {}: `{}` until {} ({when}), owner `{}`",
        e.control, e.scope, e.allow, e.expires, e.owner
    )
}

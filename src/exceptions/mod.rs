//! Exceptions to a policy: a control run weaker than `spec` asks, for a
//! reason, by an owner, until a date. One place answers what an exception
//! is, whether it still holds on a day, and what it covers; compile,
//! explain, check, audit, diff and admission all ask here.
//!
//! Rules: an exception holds through its `expires` day (UTC) and has
//! expired from the day after. It covers a setting of its control no
//! weaker than `allow` (any setting without `allow`), for the whole hub or,
//! with `scope.profile`, for that profile's pods only. The policy's own
//! output (values, manifests) never depends on the date; what the date
//! decides is whether `compile` may proceed and whether `check`/`audit`
//! accept a finding.

mod date;

pub use date::{Date, EXPECTED as DATE_EXPECTED, Today};

use serde::Serialize;

use crate::controls::{ControlDef, Setting, by_id};
use crate::diag::Diagnostic;
use crate::parse::Loaded;
use crate::policy::{Exception, Policy};

/// Days before expiry from which `diff` reports an exception as expiring.
pub const DEFAULT_EXPIRING_WITHIN: i64 = 30;

/// The label KubeSpawner puts on a profile's pods when the profile sets it
/// in `kubespawner_override.extra_labels`: how admission recognises them.
pub const PROFILE_LABEL: &str = "z2jh-policy/profile";

/// `1 day`, `30 days`.
pub fn days(n: i64) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

/// `30 days left`, `expired 2 days ago` (`expires` is the last good day).
pub fn left(n: i64) -> String {
    if n < 0 {
        format!("expired {} ago", days(-n))
    } else {
        format!("{} left", days(n))
    }
}

/// An exception of a policy with its control and dates resolved.
#[derive(Debug, Clone)]
pub struct Listed<'a> {
    /// Its place in the merged `exceptions` list.
    pub index: usize,
    pub exception: &'a Exception,
    pub def: &'static ControlDef,
    /// The weakest setting covered (the control's weakest without `allow`).
    pub allow: &'static Setting,
    pub expires: Date,
}

impl Listed<'_> {
    /// JSON pointer of the entry, or of one of its fields.
    pub fn pointer(&self, field: &str) -> String {
        if field.is_empty() {
            format!("/exceptions/{}", self.index)
        } else {
            format!("/exceptions/{}/{field}", self.index)
        }
    }

    pub fn expired(&self, today: Date) -> bool {
        today > self.expires
    }

    /// Days from `today` to the last day (0 on the last day itself).
    pub fn days_left(&self, today: Date) -> i64 {
        today.days_until(self.expires)
    }

    /// The profile slug, or `None` for the whole hub.
    pub fn profile(&self) -> Option<&str> {
        self.exception.scope.as_ref().map(|s| s.profile.as_str())
    }

    /// `the whole hub` or `profile \`gpu\``.
    pub fn scope_label(&self) -> String {
        match self.profile() {
            None => "the whole hub".into(),
            Some(p) => format!("profile `{p}`"),
        }
    }

    /// `setting` is one this exception allows (no weaker than `allow`).
    pub fn allows(&self, setting: &Setting) -> bool {
        setting.rank <= self.allow.rank
    }

    /// A short name for messages: `capabilities` (profile `gpu`).
    pub fn name(&self) -> String {
        match self.profile() {
            None => format!("`{}`", self.def.id),
            Some(p) => format!("`{}` (profile `{p}`)", self.def.id),
        }
    }

    /// The same facts for reports.
    pub fn view(&self, today: Option<Date>) -> View {
        View {
            control: self.def.id,
            scope: self.scope_label(),
            profile: self.profile().map(str::to_string),
            allow: self.allow.name,
            reason: self.exception.reason.clone(),
            owner: self.exception.owner.clone(),
            expires: self.expires.to_string(),
            days_left: today.map(|t| self.days_left(t)),
        }
    }
}

/// An exception as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct View {
    pub control: &'static str,
    /// `the whole hub` or `profile \`slug\``.
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    pub allow: &'static str,
    pub reason: String,
    pub owner: String,
    pub expires: String,
    /// From the day the report was made; negative once expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
}

/// Every exception of `policy` whose control, setting and date are valid
/// (the others are errors of [`check`]).
pub fn listed(policy: &Policy) -> Vec<Listed<'_>> {
    policy
        .exceptions
        .iter()
        .enumerate()
        .filter_map(|(index, exception)| {
            let def = by_id(&exception.control.0)?.def();
            let allow = match &exception.allow {
                None => *def.settings.iter().max_by_key(|s| s.rank)?,
                Some(name) => *def.settings.iter().find(|s| s.name == name)?,
            };
            let expires = Date::parse(&exception.expires).ok()?;
            Some(Listed {
                index,
                exception,
                def,
                allow,
                expires,
            })
        })
        .collect()
}

/// The exceptions in force on `today` for one control.
pub fn active<'a>(policy: &'a Policy, control: &str, today: Date) -> Vec<Listed<'a>> {
    listed(policy)
        .into_iter()
        .filter(|l| l.def.id == control && !l.expired(today))
        .collect()
}

/// What the schema cannot say: `allow` must name a setting of the control.
/// (Unknown controls and malformed dates are schema errors already.)
pub fn check(loaded: &Loaded) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, e) in loaded.policy.exceptions.iter().enumerate() {
        let (Some(control), Some(allow)) = (by_id(&e.control.0), &e.allow) else {
            continue;
        };
        let def = control.def();
        if def.settings.iter().any(|s| s.name == allow) {
            continue;
        }
        let names: Vec<&str> = def.settings.iter().map(|s| s.name).collect();
        let mut d = Diagnostic::error(format!(
            "`{allow}` is not a setting of `{}` (exceptions[{i}].allow)",
            def.id
        ))
        .control(def.id)
        .at_opt(loaded.prov.loc(&format!("/exceptions/{i}/allow")));
        d = match crate::diag::suggest(allow, names.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!(
                "`{}` has the settings {}",
                def.id,
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        out.push(d);
    }
    out
}

/// One error for each exception that has expired by `today`.
pub fn expired(loaded: &Loaded, today: Date) -> Vec<Diagnostic> {
    listed(&loaded.policy)
        .into_iter()
        .filter(|l| l.expired(today))
        .map(|l| {
            Diagnostic::error(format!(
                "the exception for {} owned by `{}` expired on {} ({} ago)",
                l.name(),
                l.exception.owner,
                l.expires,
                days(-l.days_left(today))
            ))
            .control(l.def.id)
            .at_opt(loaded.prov.loc(&l.pointer("expires")))
            .help(format!(
                "meet the policy and remove the exception, or, if it still holds (\"{}\"), set a new `expires`",
                l.exception.reason
            ))
        })
        .collect()
}

/// One note for each exception in force on `today`.
pub fn notes(loaded: &Loaded, today: Date) -> Vec<Diagnostic> {
    listed(&loaded.policy)
        .into_iter()
        .filter(|l| !l.expired(today))
        .map(|l| {
            Diagnostic::note(format!(
                "exception: `{}` may be as weak as `{}` for {} until {} ({} left), owned by `{}`: {}",
                l.def.id,
                l.allow.name,
                l.scope_label(),
                l.expires,
                days(l.days_left(today)),
                l.exception.owner,
                l.exception.reason
            ))
            .control(l.def.id)
            .at_opt(loaded.prov.loc(&l.pointer("")))
        })
        .collect()
}

/// A hub-wide exception of `policy` (whatever the date: an expired one
/// stops `compile`) lets the control be `setting`.
pub fn hub_wide_allows(policy: &Policy, def: &ControlDef, setting: &Setting) -> bool {
    listed(policy)
        .iter()
        .any(|l| l.def.id == def.id && l.profile().is_none() && l.allows(setting))
}

/// The hub-wide exceptions of `policy` for a control (whatever the date).
pub fn hub_wide<'a>(policy: &'a Policy, control: &str) -> Vec<Listed<'a>> {
    listed(policy)
        .into_iter()
        .filter(|l| l.def.id == control && l.profile().is_none())
        .collect()
}

/// The profile-scoped exceptions of `policy` for a control (whatever the date).
pub fn for_profiles<'a>(policy: &'a Policy, control: &str) -> Vec<Listed<'a>> {
    listed(policy)
        .into_iter()
        .filter(|l| l.def.id == control && l.profile().is_some())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Input, load};

    fn loaded(exceptions: &str) -> Loaded {
        let text = format!(
            "apiVersion: z2jh-policy/v1\nkind: HubPolicy\nmetadata: {{name: p, namespace: jhub}}\nchart: 4.4.0\nkubernetesVersion: \"1.30\"\nexceptions:\n{exceptions}"
        );
        load(&Input::Inline {
            name: "p.yaml".into(),
            text,
            base: Default::default(),
        })
        .unwrap_or_else(|e| panic!("{e:#?}"))
    }

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn an_exception_holds_through_its_last_day_and_allows_no_weaker_setting() {
        let l = loaded(
            "- {control: seccomp, allow: localhost, reason: r, owner: o, expires: 2027-01-31}\n",
        );
        let all = listed(&l.policy);
        let e = &all[0];
        assert!(!e.expired(day("2027-01-31")));
        assert!(e.expired(day("2027-02-01")));
        assert_eq!(e.days_left(day("2027-01-30")), 1);
        let def = e.def;
        let named = |n: &str| *def.settings.iter().find(|s| s.name == n).unwrap();
        assert!(e.allows(named("runtime-default")));
        assert!(e.allows(named("localhost")));
        assert!(!e.allows(named("unset")));
        assert_eq!(active(&l.policy, "seccomp", day("2027-02-01")).len(), 0);
        assert_eq!(expired(&l, day("2027-02-01")).len(), 1);
        assert!(expired(&l, day("2027-01-31")).is_empty());
        assert_eq!(notes(&l, day("2027-01-31")).len(), 1);
    }

    #[test]
    fn without_allow_any_setting_is_allowed_and_scope_is_the_hub() {
        let l = loaded("- {control: egress, reason: r, owner: o, expires: 2027-01-31}\n");
        let e = &listed(&l.policy)[0];
        assert_eq!(e.allow.name, "internet");
        assert_eq!(e.scope_label(), "the whole hub");
        assert_eq!(hub_wide(&l.policy, "egress").len(), 1);
        assert!(for_profiles(&l.policy, "egress").is_empty());
    }

    #[test]
    fn an_unknown_allowed_setting_is_located_and_the_settings_listed() {
        let l = loaded(
            "- {control: seccomp, allow: unconfind, reason: r, owner: o, expires: 2027-01-31}\n",
        );
        let d = check(&l);
        assert_eq!(d.len(), 1);
        let loc = d[0].location.as_ref().unwrap();
        assert_eq!((loc.file.as_str(), loc.line), ("p.yaml", 7));
        assert_eq!(
            d[0].help.as_deref(),
            Some("`seccomp` has the settings `runtime-default`, `localhost`, `unset`")
        );
        assert!(listed(&l.policy).is_empty());
        let l = loaded(
            "- {control: seccomp, allow: unset, reason: r, owner: o, expires: 2027-01-31}\n",
        );
        assert!(check(&l).is_empty());
    }

    #[test]
    fn days_are_counted_in_words() {
        assert_eq!(left(1), "1 day left");
        assert_eq!(left(0), "0 days left");
        assert_eq!(left(-1), "expired 1 day ago");
        assert_eq!(left(-3), "expired 3 days ago");
    }
}

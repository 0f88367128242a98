//! Exceptions in `check` and `audit`: a finding an exception in force
//! covers is reported as excepted (with the exception's reason and owner)
//! and does not fail the run; an expired exception covers nothing and is a
//! finding itself.
//!
//! An exception never covers more than it names: the setting found must be
//! no weaker than its `allow`, and a profile-scoped one covers a control's
//! finding only when the control, judged again on every other pod, holds,
//! and that profile's own pods stay within `allow`.

use serde_json::Value;

use super::{Finding, Reference, SettingView, Severity, Status};
use crate::controls::{ControlDef, ReadBack, Setting, ValuesView, by_id, judge};
use crate::exceptions::{self, Date, Listed};

/// Finding id of an expired exception.
pub const EXPIRED_ID: &str = "Z2JH-exception-expired";

/// Marks the findings the policy's exceptions cover on `today`, and adds
/// one finding per expired exception.
pub fn apply(reference: &Reference, view: &ValuesView, findings: &mut Vec<Finding>, today: Date) {
    let policy = &reference.loaded.policy;
    let listed = exceptions::listed(policy);
    if listed.is_empty() {
        return;
    }
    for f in findings.iter_mut() {
        if !matches!(f.status, Status::Violated | Status::ProfileOverride) {
            continue;
        }
        let Some(control) = by_id(f.control) else {
            continue;
        };
        let def = control.def();
        let Some(found) = f.found.as_ref().and_then(|s| setting(def, s.name)) else {
            continue;
        };
        let active: Vec<&Listed> = listed
            .iter()
            .filter(|l| l.def.id == def.id && !l.expired(today))
            .collect();
        let covering = active.iter().find(|l| {
            l.allows(found)
                && match (l.profile(), f.status) {
                    (None, _) => true,
                    (Some(p), Status::ProfileOverride) => f.profile.as_deref() == Some(p),
                    (Some(p), _) => profile_covers(control, reference, view, p, l),
                }
        });
        match covering {
            Some(l) => {
                f.status = Status::Excepted;
                f.message = format!(
                    "{}; excepted for {} until {} (owner `{}`): {}",
                    f.message,
                    l.scope_label(),
                    l.expires,
                    l.exception.owner,
                    l.exception.reason
                );
                f.exception = Some(l.view(Some(today)));
                if let Some(slug) = l.profile()
                    && admission_checks(control, policy)
                    && !labelled(view, slug)
                {
                    f.message = format!(
                        "{}; but admission cannot tell the profile's pods apart and still refuses them: add `{}: {slug}` to the profile's `kubespawner_override.extra_labels`",
                        f.message,
                        exceptions::PROFILE_LABEL
                    );
                }
            }
            None => {
                // Say why an exception for the control did not cover it.
                if let Some(l) = active.iter().find(|l| !l.allows(found)) {
                    f.message = format!(
                        "{}; the exception for {} allows `{}` at most",
                        f.message,
                        l.name(),
                        l.allow.name
                    );
                } else if let Some(l) = active.first() {
                    let why = match (f.status, &f.profile) {
                        (Status::ProfileOverride, Some(p)) => {
                            format!("does not cover profile `{p}`")
                        }
                        _ => "covers only that profile's pods, and others fall short too".into(),
                    };
                    f.message = format!("{}; the exception for {} {why}", f.message, l.name());
                }
            }
        }
    }
    for l in listed.iter().filter(|l| l.expired(today)) {
        let want = by_id(l.def.id).map(|c| c.selected(policy));
        let Some(want) = want else { continue };
        findings.push(Finding {
            id: EXPIRED_ID.into(),
            severity: Severity::Low,
            status: Status::Violated,
            control: l.def.id,
            title: "Expired exception",
            policy_field: format!("exceptions[{}]", l.index),
            required: SettingView::of(l.def, &want),
            found: None,
            message: format!(
                "the exception for {} owned by `{}` expired on {} ({} ago) and covers nothing: meet the policy and remove it, or renew it",
                l.name(),
                l.exception.owner,
                l.expires,
                exceptions::days(-l.days_left(today))
            ),
            evidence: reference
                .loaded
                .prov
                .loc(&l.pointer("expires"))
                .map(|loc| super::Evidence {
                    file: loc.file,
                    line: loc.line,
                    column: loc.column,
                    key: format!("exceptions[{}].expires", l.index),
                    value: Some(Value::String(l.exception.expires.clone())),
                    chart_default: false,
                }),
            fix: None,
            tradeoffs: Vec::new(),
            exception: Some(l.view(Some(today))),
            profile: None,
        });
    }
}

/// The control has user-pod validations under the policy (and
/// `admission.mode` emits them).
fn admission_checks(
    control: &dyn crate::controls::Control,
    policy: &crate::policy::Policy,
) -> bool {
    policy.spec.admission.mode != crate::policy::AdmissionMode::Off
        && control
            .admission(policy)
            .iter()
            .any(|v| v.target == crate::admission::Target::UserPods)
}

/// Every pod of profile `slug` carries the label admission recognises it by.
fn labelled(view: &ValuesView, slug: &str) -> bool {
    let key = format!(
        "/metadata/labels/{}",
        crate::paths::escape_pointer(exceptions::PROFILE_LABEL)
    );
    view.pods()
        .iter()
        .filter(|(p, _)| p.slug.as_deref() == Some(slug))
        .all(|(p, _)| p.json.pointer(&key).and_then(Value::as_str) == Some(slug))
}

fn setting(def: &ControlDef, name: &str) -> Option<&'static Setting> {
    def.settings.iter().copied().find(|s| s.name == name)
}

/// The control holds on every pod outside profile `slug` (or a hub-wide
/// exception in force allows what they show), and the profile's own pods
/// stay within the exception's `allow`.
fn profile_covers(
    control: &'static dyn crate::controls::Control,
    reference: &Reference,
    view: &ValuesView,
    slug: &str,
    l: &Listed,
) -> bool {
    let def = control.def();
    let pods = view.pods();
    let (theirs, rest): (Vec<_>, Vec<_>) = pods
        .into_iter()
        .partition(|(p, _)| p.slug.as_deref() == Some(slug));
    if theirs.is_empty() {
        return false;
    }
    let judged_on = |pods: Vec<&crate::controls::PodAndNetwork>| {
        let mut v = ValuesView {
            values: view.values,
            defaults: view.defaults,
            manifests: view.manifests,
            chart: view.chart,
            more: crate::controls::ViewMore::new(view.more.manifest_files, view.more.chart_version),
        };
        v.more.sanctioned_egress = view.more.sanctioned_egress.clone();
        v.more.set_pods(pods);
        control.judge(&v).read_back
    };
    let within = |r: ReadBack, ok: &dyn Fn(&'static Setting) -> bool| match r {
        ReadBack::Setting(s) => ok(def.setting(&s)),
        ReadBack::CannotVerify { .. } => false,
    };
    let want = control.selected(&reference.loaded.policy);
    let rest_holds = rest.is_empty()
        || within(judged_on(rest), &|s| {
            judge::meets(def, &want, &s.selected())
                || exceptions::hub_wide_allows(&reference.loaded.policy, def, s)
        });
    rest_holds && within(judged_on(theirs), &|s| l.allows(s))
}

/// The slug of the profile an override path (`…profileList[i]…`) is in.
pub fn slug_at(merged: &Value, path: &[String]) -> Option<String> {
    for list in super::profiles::LISTS {
        let n = list.len();
        if path.len() > n && path[..n].iter().zip(list.iter()).all(|(a, b)| a == b) {
            let i: usize = path[n].parse().ok()?;
            let profile = crate::values::get(merged, list)?.get(i)?.as_object()?;
            return Some(crate::effective::profiles::profile_slug(profile, i));
        }
    }
    None
}

//! Profiles that undo the policy: every `kubespawner_override` (in
//! `singleuser.profileList` or `hub.config.KubeSpawner.profile_list`, at the
//! profile or in a profile option's choice) that sets a KubeSpawner trait a
//! control names in `spawner_traits`.
//!
//! An override replaces the trait for the users who pick the profile, as if
//! `hub.config.KubeSpawner.<trait>` were set; the affected controls are read
//! back that way to see whether the profile weakens them.

use serde_json::Value;

use super::{Evidence, Finding, Installed, Reference, SettingView, Severity, Status};
use crate::controls::{ALL, ReadBack, judge};
use crate::paths::{dotted_values_path, pointer};

/// Where profile lists live in values (the chart's key, and the trait).
pub const LISTS: &[&[&str]] = &[
    &["singleuser", "profileList"],
    &["hub", "config", "KubeSpawner", "profile_list"],
];

/// One override: the profile (and choice) it belongs to, its key path.
struct Override<'a> {
    label: String,
    path: Vec<String>,
    traits: &'a serde_json::Map<String, Value>,
    /// (option, choice) for a choice's override (`""` for free-form).
    choice: Option<(String, String)>,
}

/// `all` is the deployment the controls were read on: every profile's pods,
/// built once and borrowed by each override's view.
pub fn findings(
    reference: &Reference,
    installed: &Installed,
    merged: &Value,
    main: &[Finding],
    all: &crate::effective::Deployment,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for list in LISTS {
        let Some(profiles) = crate::values::get(merged, list).and_then(Value::as_array) else {
            continue;
        };
        for (i, profile) in profiles.iter().enumerate() {
            let base: Vec<String> = list
                .iter()
                .map(|s| s.to_string())
                .chain(std::iter::once(i.to_string()))
                .collect();
            for o in overrides(profile, &base, i) {
                // The pods this override is part of.
                let pods: Vec<_> = all
                    .pods
                    .iter()
                    .filter(|(p, _)| {
                        p.profile == Some(i)
                            && match &o.choice {
                                None => true,
                                Some((opt, ch)) => p
                                    .choice
                                    .as_ref()
                                    .is_some_and(|(po, pc)| po == opt && pc == ch),
                            }
                    })
                    .collect();
                if pods.is_empty() {
                    continue;
                }
                for (name, value) in o.traits {
                    out.extend(judge(
                        reference, installed, merged, &pods, main, &o, name, value,
                    ));
                }
            }
        }
    }
    out
}

/// `merged` without its profile lists: what a user gets when no profile
/// overrides anything.
pub fn without_profiles(merged: &Value) -> Value {
    let mut out = merged.clone();
    for list in LISTS {
        if let Some((last, parent)) = list.split_last()
            && let Some(Value::Object(m)) = parent
                .iter()
                .try_fold(&mut out, |node, key| node.get_mut(*key))
        {
            m.remove(*last);
        }
    }
    out
}

/// Every profile override of a trait some control names: (where, trait).
pub fn security_overrides(merged: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for list in LISTS {
        let Some(profiles) = crate::values::get(merged, list).and_then(Value::as_array) else {
            continue;
        };
        for (i, profile) in profiles.iter().enumerate() {
            for o in overrides(profile, &[], i) {
                for name in o.traits.keys() {
                    if ALL
                        .iter()
                        .any(|c| c.def().spawner_traits.contains(&name.as_str()))
                    {
                        out.push((o.label.clone(), name.clone()));
                    }
                }
            }
        }
    }
    out
}

fn profile_name(p: &Value, i: usize) -> String {
    ["display_name", "slug"]
        .iter()
        .find_map(|k| p.get(*k).and_then(Value::as_str))
        .map_or_else(|| format!("#{i}"), str::to_string)
}

fn overrides<'a>(profile: &'a Value, base: &[String], i: usize) -> Vec<Override<'a>> {
    let name = profile_name(profile, i);
    let with = |tail: &[&str]| {
        base.iter()
            .cloned()
            .chain(tail.iter().map(|s| s.to_string()))
            .collect::<Vec<_>>()
    };
    let mut out = Vec::new();
    if let Some(t) = profile
        .get("kubespawner_override")
        .and_then(Value::as_object)
    {
        out.push(Override {
            label: format!("profile `{name}`"),
            path: with(&["kubespawner_override"]),
            traits: t,
            choice: None,
        });
    }
    let Some(options) = profile.get("profile_options").and_then(Value::as_object) else {
        return out;
    };
    for (opt, o) in options {
        if let Some(choices) = o.get("choices").and_then(Value::as_object) {
            for (ch, c) in choices {
                if let Some(t) = c.get("kubespawner_override").and_then(Value::as_object) {
                    out.push(Override {
                        label: format!("profile `{name}`, option `{opt}`, choice `{ch}`"),
                        path: with(&[
                            "profile_options",
                            opt,
                            "choices",
                            ch,
                            "kubespawner_override",
                        ]),
                        traits: t,
                        choice: Some((opt.clone(), ch.clone())),
                    });
                }
            }
        }
        if let Some(t) = o
            .pointer("/unlisted_choice/kubespawner_override")
            .and_then(Value::as_object)
        {
            out.push(Override {
                label: format!("profile `{name}`, option `{opt}`, free-form choice"),
                path: with(&[
                    "profile_options",
                    opt,
                    "unlisted_choice",
                    "kubespawner_override",
                ]),
                traits: t,
                choice: Some((opt.clone(), String::new())),
            });
        }
    }
    out
}

#[allow(clippy::too_many_arguments)] // one call site; the arguments are the judging context
fn judge<'a>(
    reference: &Reference,
    installed: &'a Installed,
    merged: &'a Value,
    pods: &[&'a (
        crate::effective::Pod,
        std::sync::Arc<crate::effective::network::Network>,
    )],
    main: &[Finding],
    o: &Override,
    name: &str,
    value: &Value,
) -> Option<Finding> {
    let policy = &reference.loaded.policy;
    // Controls the trait can undo and that the policy actually requires.
    let affected: Vec<_> = ALL
        .iter()
        .filter(|c| c.def().spawner_traits.contains(&name))
        .filter(|c| !judge::requires_nothing(c.def(), &c.selected(policy)))
        .collect();
    let first = affected.first()?;
    // The controls read on this profile's own pods only.
    let mut view = installed.view(merged);
    view.more.set_pods(pods.to_vec());
    let mut key = o.path.clone();
    key.push(name.to_string());
    // The weakest outcome among the affected controls that this override
    // decides (its key, or a key inside it, is what the reading cites).
    let decided_here = |by: &Option<crate::effective::Origin>| match by {
        Some(crate::effective::Origin::Values { path }) => path.starts_with_keys(&key),
        _ => false,
    };
    let (control, want, got, severity) = affected
        .iter()
        .filter_map(|c| {
            let j = c.judge(&view);
            match j.read_back {
                ReadBack::Setting(got) if decided_here(&j.by) => {
                    let want = c.selected(policy);
                    let d = c.def();
                    let severity = Severity::found(d, &want, &got, j.exposes);
                    (!judge::meets(d, &want, &got)).then_some((c, want, got, severity))
                }
                _ => None,
            }
        })
        .min_by_key(|(_, _, _, severity)| *severity)?;
    let _ = first;
    // Reported once: the control's own finding may already cite this key,
    // or a key inside it (an item of a list the override sets).
    let dotted = crate::paths::dotted_values_path(&key);
    if main.iter().any(|f| {
        f.control == control.def().id
            && f.evidence.as_ref().is_some_and(|e| {
                e.key
                    .strip_prefix(&dotted)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
            })
    }) {
        return None;
    }
    let found = SettingView::of(control.def(), &got);
    let message = format!(
        "{} sets `{name}`, which weakens `{}` to `{}` for its users",
        o.label,
        control.def().id,
        found.label()
    );
    let found = Some(found);
    let def = control.def();
    Some(Finding {
        id: "Z2JH-profile-override".into(),
        severity,
        status: Status::ProfileOverride,
        control: def.id,
        title: def.title,
        policy_field: def.dotted_field(),
        required: SettingView::of(def, &want),
        found,
        message,
        evidence: locate(installed, &key, value),
        fix: None,
        tradeoffs: Vec::new(),
        exception: None,
        profile: super::excepted::slug_at(merged, &o.path),
    })
}

/// The last file that sets the key (lists replace whole, so that is the
/// file the list came from).
fn locate(installed: &Installed, key: &[String], value: &Value) -> Option<Evidence> {
    let ptr = pointer(key);
    installed.files.iter().rev().find_map(|f| {
        let pos = f
            .doc
            .spans
            .get(&format!("{ptr}#key"))
            .or_else(|| f.doc.spans.get(&ptr))?;
        Some(Evidence {
            file: f.name.clone(),
            line: pos.line,
            column: pos.column,
            key: dotted_values_path(key),
            value: Some(value.clone()),
            chart_default: false,
        })
    })
}

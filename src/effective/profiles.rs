//! One effective pod per profile and per profile option choice, built the
//! way KubeSpawner applies `kubespawner_override`: the profile's overrides,
//! then each option's chosen (or default) choice.

use serde_json::{Map, Value};

use super::origin::Origin;
use super::pod::{Pod, make_pod};
use super::spawner::{SpawnerConfig, Wildcard, apply_overrides, scalar_text};

/// The text a user types into a free-form choice, as the pod would see it.
pub const FREE_FORM: &str = "{user-typed value}";

/// Every pod the hub can spawn: the default one (no profiles) or one per
/// profile with default options, plus one per non-default choice.
pub fn pods(cfg: &SpawnerConfig) -> Vec<Pod> {
    let Some(list_trait) = cfg.get("profile_list") else {
        return vec![make_pod(cfg, "default")];
    };
    let origin = list_trait.origin.clone();
    let list = match &list_trait.value {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) | Some(Value::Null) => return vec![make_pod(cfg, "default")],
        // A callable or code: the profiles cannot be listed.
        _ => {
            let mut p = make_pod(cfg, "default");
            p.unknown.push((
                String::new(),
                Wildcard {
                    what: "the profile list is computed by code".into(),
                    origin,
                },
            ));
            return vec![p];
        }
    };
    // The list itself is not part of any pod; cloning it into every
    // variant is what costs.
    let mut lean = cfg.clone();
    lean.traits.remove("profile_list");
    lean.base_traits.remove("profile_list");
    let cfg = &lean;
    // Profiles are independent of each other: build them side by side.
    let indexed: Vec<(usize, &Value)> = list.iter().enumerate().collect();
    let mut out: Vec<Pod> = crate::par::map(&indexed, crate::par::cores(), |(i, profile)| {
        profile_pods(cfg, *i, profile, &origin)
    })
    .into_iter()
    .flatten()
    .collect();
    if out.is_empty() {
        out.push(make_pod(cfg, "default"));
    }
    out
}

/// The slug KubeSpawner knows the `i`-th profile by: its `slug`, else one
/// made from `display_name` (`_get_initialized_profile_list`), else `#i`.
pub fn profile_slug(profile: &Map<String, Value>, i: usize) -> String {
    profile
        .get("slug")
        .map(scalar_text)
        .or_else(|| {
            profile
                .get("display_name")
                .map(|d| slugify(&scalar_text(d)))
        })
        .unwrap_or_else(|| format!("#{i}"))
}

/// The pods of the `i`-th profile: its defaults, then one per other choice
/// and per free-form option.
fn profile_pods(cfg: &SpawnerConfig, i: usize, profile: &Value, origin: &Origin) -> Vec<Pod> {
    let Value::Object(profile) = profile else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let p_origin = origin.child(&[i.to_string()]);
    let slug = profile_slug(profile, i);
    let mut base = cfg.clone();
    if let Some(Value::Object(o)) = profile.get("kubespawner_override") {
        apply_overrides(&mut base, o, &p_origin.child(&["kubespawner_override"]));
    }
    let options: Vec<(&String, &Map<String, Value>)> = match profile.get("profile_options") {
        Some(Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| v.as_object().map(|o| (k, o)))
            .collect(),
        _ => Vec::new(),
    };
    // Defaults of every option first.
    let mut with_defaults = base.clone();
    for (name, opt) in &options {
        if let Some((_, choice)) = default_choice(opt)
            && let Some(Value::Object(o)) = choice.get("kubespawner_override")
        {
            let co = p_origin.child(&["profile_options", name, "choices"]);
            let key = default_choice(opt)
                .map(|(k, _)| k.as_str())
                .unwrap_or_default();
            apply_overrides(
                &mut with_defaults,
                o,
                &co.child(&[key, "kubespawner_override"]),
            );
        }
    }
    let mut pod = make_pod(&with_defaults, &format!("profile `{slug}`"));
    pod.profile = Some(i);
    out.push(pod);
    for (name, opt) in &options {
        let default_key = default_choice(opt).map(|(k, _)| k);
        if let Some(Value::Object(choices)) = opt.get("choices") {
            for (key, choice) in choices {
                if Some(key) == default_key {
                    continue;
                }
                let mut cfg = with_defaults_except(&base, &options, name, &p_origin);
                if let Some(Value::Object(o)) = choice.get("kubespawner_override") {
                    let co = p_origin.child(&[
                        "profile_options",
                        name,
                        "choices",
                        key,
                        "kubespawner_override",
                    ]);
                    apply_overrides(&mut cfg, o, &co);
                }
                out.push(make_pod(
                    &cfg,
                    &format!("profile `{slug}`, option {name}={key}"),
                ));
            }
        }
        let unlisted = opt.get("unlisted_choice");
        let enabled = unlisted
            .and_then(|u| u.get("enabled"))
            .is_some_and(|e| e == &Value::Bool(true));
        if enabled {
            let mut cfg = with_defaults_except(&base, &options, name, &p_origin);
            let uo = p_origin.child(&["profile_options", name, "unlisted_choice"]);
            let mut typed = Vec::new();
            if let Some(Value::Object(o)) = unlisted.and_then(|u| u.get("kubespawner_override")) {
                let formatted: Map<String, Value> = o
                    .iter()
                    .map(|(k, v)| {
                        if mentions_value(v) {
                            typed.push(k.clone());
                        }
                        (k.clone(), format_value(v))
                    })
                    .collect();
                apply_overrides(&mut cfg, &formatted, &uo.child(&["kubespawner_override"]));
            }
            let mut pod = make_pod(
                &cfg,
                &format!("profile `{slug}`, option {name}=<free-form>"),
            );
            let pattern = unlisted
                .and_then(|u| u.get("validation_regex"))
                .map(scalar_text);
            for k in typed {
                let ptr = trait_pointer(&k);
                pod.free_form.push((
                    format!("{ptr}#{}", pattern.clone().unwrap_or_default()),
                    uo.child(&["enabled"]),
                ));
            }
            out.push(pod);
        }
    }
    for pod in &mut out {
        pod.slug = Some(slug.clone());
    }
    out
}

/// The profile's base with every option at its default except `skip`.
fn with_defaults_except(
    base: &SpawnerConfig,
    options: &[(&String, &Map<String, Value>)],
    skip: &str,
    p_origin: &Origin,
) -> SpawnerConfig {
    let mut cfg = base.clone();
    for (name, opt) in options {
        if *name == skip {
            continue;
        }
        if let Some((key, choice)) = default_choice(opt)
            && let Some(Value::Object(o)) = choice.get("kubespawner_override")
        {
            let co = p_origin.child(&[
                "profile_options",
                name,
                "choices",
                key,
                "kubespawner_override",
            ]);
            apply_overrides(&mut cfg, o, &co);
        }
    }
    cfg
}

/// The choice marked default, else the first.
fn default_choice(opt: &Map<String, Value>) -> Option<(&String, &Map<String, Value>)> {
    let Some(Value::Object(choices)) = opt.get("choices") else {
        return None;
    };
    choices
        .iter()
        .find(|(_, c)| c.get("default") == Some(&Value::Bool(true)))
        .or_else(|| choices.iter().next())
        .and_then(|(k, c)| c.as_object().map(|c| (k, c)))
}

fn mentions_value(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("{value}"),
        Value::Array(a) => a.iter().any(mentions_value),
        Value::Object(m) => m.values().any(mentions_value),
        _ => false,
    }
}

/// `recursive_format(v, value=…)` with the user's text left as a marker.
fn format_value(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace("{value}", FREE_FORM)),
        Value::Array(a) => Value::Array(a.iter().map(format_value).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), format_value(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The pod field a trait decides, for free-form reports.
fn trait_pointer(name: &str) -> &'static str {
    match name {
        "image" => "/spec/containers/0/image",
        "uid" => "/spec/containers/0/securityContext/runAsUser",
        "service_account" => "/spec/serviceAccountName",
        "image_pull_policy" => "/spec/containers/0/imagePullPolicy",
        "init_containers" => "/spec/initContainers",
        "extra_containers" => "/spec/containers",
        "extra_pod_config" => "/spec",
        "extra_container_config" | "container_security_context" => "/spec/containers/0",
        _ => "/spec",
    }
}

/// KubeSpawner's slug of a display name (lower case, runs of other
/// characters as one dash).
fn slugify(s: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            dash = false;
        } else if !dash && !out.is_empty() {
            out.push('-');
            dash = true;
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::super::Pointer;
    use super::super::spawner::{Flavour, configure};
    use super::*;
    use serde_json::json;

    #[test]
    fn one_pod_per_profile_and_choice() {
        let v = json!({"singleuser": {"uid": 1000, "image": {"name": "base", "tag": "1"}, "profileList": [
            {"display_name": "Small One", "default": true},
            {"display_name": "Root", "kubespawner_override": {"uid": 0}},
            {"slug": "img", "display_name": "Images", "profile_options": {"image": {
                "choices": {"a": {"kubespawner_override": {"image": "a:1"}}, "b": {"kubespawner_override": {"image": "b:1"}}},
                "unlisted_choice": {"enabled": true, "kubespawner_override": {"image": "{value}"}}}}}
        ]}});
        let pods = pods(&configure(&v, Flavour::V4, &[]));
        let labels: Vec<&str> = pods.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(
            labels,
            vec![
                "profile `small-one`",
                "profile `root`",
                "profile `img`",
                "profile `img`, option image=b",
                "profile `img`, option image=<free-form>",
            ]
        );
        assert_eq!(
            pods[1]
                .json
                .at("/spec/containers/0/securityContext/runAsUser"),
            Some(&json!(0))
        );
        assert_eq!(
            pods[2].json.at("/spec/containers/0/image"),
            Some(&json!("a:1"))
        );
        assert_eq!(
            pods[4].json.at("/spec/containers/0/image"),
            Some(&json!(FREE_FORM))
        );
        assert_eq!(pods[4].free_form.len(), 1);
        assert_eq!(
            pods[1].origin_of("/spec/containers/0/securityContext/runAsUser"),
            Some(&Origin::values(&[
                "singleuser",
                "profileList",
                "1",
                "kubespawner_override",
                "uid"
            ]))
        );
    }
}

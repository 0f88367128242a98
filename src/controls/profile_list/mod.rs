//! What users may choose through KubeSpawner's `profile_list`
//! (`singleuser.profileList`): which images, typed images only against an
//! anchored pattern, resource limits up to a ceiling, and no profile that
//! weakens another control. The policy writes no profiles; it reads the
//! deployment's own (one effective pod per profile and option) and the
//! admission policy holds every container to the image and limit rules.

use serde_json::Value;

use super::cloud_metadata::every_user_container;
use super::resources::{cpu_quantity, limit_at_most};
use super::{Control, ControlDef, Judgement, ValuesView};
use crate::admission::Validation;
use crate::admission::cel::{self, Lists};
use crate::controls::lowering::Lowering;
use crate::effective::grade::Verdict;
use crate::effective::{Origin, Pod};
use crate::plan::Selected;
use crate::policy::{FreeFormImages, Policy};
use crate::validate::formats::{image_has_prefix, quantity_value, regex_anchors};

mod weakening;

pub use weakening::ProfileWeakening;

const PTR: &str = "/spec/profiles";
const IMAGE: &str = "/spec/containers/0/image";

/// Where profile lists live in values: the chart's key, and the trait.
const LIST_KEYS: &[&str] = &[
    "singleuser.profileList",
    "hub.config.KubeSpawner.profile_list",
];

pub struct ProfileImages;

/// Settings of `profile-images`: what a user may type in as an image.
pub(crate) mod free_form {
    use crate::controls::Setting;
    use crate::policy::FreeFormImages;

    pub static REFUSE: Setting = Setting {
        name: "refuse",
        rank: 0,
        summary: "no profile option takes an image a user types in (`unlisted_choice` with `{value}` in `image`)",
    };
    pub static PATTERN: Setting = Setting {
        name: "pattern",
        rank: 1,
        summary: "typed images must match `pattern`, anchored at both ends (`unlisted_choice.validation_regex`)",
    };
    pub static ANY: Setting = Setting {
        name: "any",
        rank: 2,
        summary: "any image a user types in, or a `validation_regex` that does not anchor its end",
    };

    pub const MODES: [FreeFormImages; 3] = [
        FreeFormImages::Refuse,
        FreeFormImages::Pattern,
        FreeFormImages::Any,
    ];

    pub fn of(m: FreeFormImages) -> &'static Setting {
        match m {
            FreeFormImages::Refuse => &REFUSE,
            FreeFormImages::Pattern => &PATTERN,
            FreeFormImages::Any => &ANY,
        }
    }
}

static IMAGES: ControlDef = ControlDef {
    id: "profile-images",
    title: "Images and resources users may choose through profiles",
    field: "/spec/profiles/freeFormImages",
    rationale: "A profile list lets users pick what their server runs. A typed image (`unlisted_choice`) runs whatever \
        a user names — built to run as root, to carry setuid tools or to mine coin — unless a pattern limits it, and \
        KubeSpawner checks that pattern with Python's `re.match`, which anchors only the start. Listed images should \
        come from registries you trust, and no profile should offer more CPU or memory than the cluster can give.",
    settings: &[&free_form::REFUSE, &free_form::PATTERN, &free_form::ANY],
    values_keys: LIST_KEYS,
    read_only_keys: LIST_KEYS,
    spawner_traits: &[],
};

/// A typed image of a pod: the `validation_regex` (empty when none) and
/// where the free-form option is defined.
fn typed_image(pod: &Pod) -> Option<(&str, &Origin)> {
    pod.free_form.iter().find_map(|(key, o)| {
        let (ptr, pattern) = key.split_once('#')?;
        (ptr == IMAGE).then_some((pattern, o))
    })
}

/// The free-form setting of one pod.
fn grade(pod: &Pod) -> Verdict {
    if let Some(u) = crate::effective::grade::unknown(pod, IMAGE) {
        return u;
    }
    let Some((pattern, by)) = typed_image(pod) else {
        return Verdict::found(pod, &free_form::REFUSE, None, None);
    };
    if pattern.is_empty() {
        return Verdict::found(
            pod,
            &free_form::ANY,
            Some("`unlisted_choice` types the image and has no `validation_regex`".into()),
            Some(by.clone()),
        );
    }
    match regex_anchors(pattern) {
        // `re.match` anchors the start itself: only the end decides.
        Ok((_, true)) => Verdict::found(
            pod,
            &free_form::PATTERN,
            Some(pattern.into()),
            Some(by.clone()),
        ),
        Ok((_, false)) => Verdict::found(
            pod,
            &free_form::ANY,
            Some(format!(
                "`validation_regex: {pattern}` does not anchor its end: KubeSpawner's `re.match` accepts any text after a matching prefix"
            )),
            Some(by.clone()),
        ),
        Err(why) => Verdict::Unknown {
            reason: format!(
                "`validation_regex: {pattern}` cannot be read ({why}), {}",
                pod.label
            ),
            by: by.clone(),
        },
    }
}

/// The hub's own user image must pass the admission checks too, or no
/// default server starts.
fn user_image_fits(p: &Policy, cx: &mut Lowering) {
    let g = &p.spec.profiles.images;
    let (name, pinned, whose) = match &p.spec.images.user_image {
        Some(img) => (img.name.clone(), img.digest.is_some(), "`images.userImage`"),
        None => {
            let defaults = cx.release.map(|r| r.defaults()).unwrap_or_default();
            let Some(name) = defaults
                .pointer("/singleuser/image/name")
                .and_then(Value::as_str)
            else {
                return;
            };
            (name.to_string(), false, "the chart's default user image")
        }
    };
    if !g.registries.is_empty() && !g.registries.iter().any(|r| image_has_prefix(&name, &r.0)) {
        cx.error(
            "/spec/profiles/images/registries",
            format!("{whose} `{name}` is from none of `profiles.images.registries`: admission would refuse every default server"),
            "list its registry, or set `images.userImage` to an image from an allowed one",
        );
    }
    if g.require_digest && !pinned {
        cx.error(
            "/spec/profiles/images/requireDigest",
            format!("{whose} `{name}` is not pinned by digest: admission would refuse every default server"),
            "set `images.userImage` with `digest`",
        );
    }
}

/// A deployment's `validation_regex` as the policy writes it: `re.match`
/// anchors the start itself, the policy states it.
fn policy_pattern(re: &str) -> String {
    match regex_anchors(re) {
        Ok((true, _)) => re.to_string(),
        _ => format!("^(?:{re})"),
    }
}

/// A limit of a container in cores or bytes: KubeSpawner's numbers as the
/// effective pod holds them, Kubernetes quantities as written.
fn limit(c: &Value, key: &str) -> Option<f64> {
    match c.pointer(&format!("/resources/limits/{key}"))? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => quantity_value(s.trim()),
        _ => None,
    }
}

/// The policy's parameters a pod does not meet, in words.
fn misses(p: &Policy, pod: &Pod) -> Vec<String> {
    let g = &p.spec.profiles;
    let max_cpu = g.max_cpu.as_ref().map(super::resources::cpu_cores);
    let max_mem = g.max_memory.as_deref().and_then(quantity_value);
    let mut out = Vec::new();
    let at = |ptr: &str| {
        pod.origin_of(ptr)
            .map(|o| format!(" ({})", o.describe()))
            .unwrap_or_default()
    };
    for (ptr, c) in pod.containers() {
        if crate::effective::grade::is_chart_blocker(pod, &ptr) {
            continue;
        }
        let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
        let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
        let typed = image.contains(crate::effective::profiles::FREE_FORM);
        if !typed && !image.is_empty() {
            let regs = &g.images.registries;
            if !regs.is_empty() && !regs.iter().any(|r| image_has_prefix(image, &r.0)) {
                out.push(format!(
                    "{}: container `{name}` runs `{image}`{}, from none of the allowed registries",
                    pod.label,
                    at(&format!("{ptr}/image"))
                ));
            }
            if g.images.require_digest && !image.contains("@sha256:") {
                out.push(format!(
                    "{}: container `{name}` runs `{image}`{}, not pinned by digest",
                    pod.label,
                    at(&format!("{ptr}/image"))
                ));
            }
        }
        for (key, field, max, shown) in [
            (
                "cpu",
                "maxCpu",
                max_cpu,
                g.max_cpu.as_ref().map(cpu_quantity),
            ),
            ("memory", "maxMemory", max_mem, g.max_memory.clone()),
        ] {
            // Ephemeral containers cannot carry resources.
            let (Some(max), Some(shown)) = (max, shown) else {
                continue;
            };
            if ptr.starts_with("/spec/ephemeralContainers/") {
                continue;
            }
            let lim_ptr = format!("{ptr}/resources/limits/{key}");
            match limit(c, key) {
                Some(l) if l > max => out.push(format!(
                    "{}: container `{name}` has a {key} limit of {}{}, above `{field}: {shown}`",
                    pod.label,
                    match (key, c.pointer(&format!("/resources/limits/{key}"))) {
                        ("memory", Some(Value::Number(n))) => format!("{n} bytes"),
                        (_, v) => v.map(crate::effective::pod::show).unwrap_or_default(),
                    },
                    at(&lim_ptr),
                )),
                Some(_) => {}
                None => out.push(format!(
                    "{}: container `{name}` has no {key} limit, so nothing holds it to `{field}: {shown}`",
                    pod.label
                )),
            }
        }
    }
    if g.free_form_images == FreeFormImages::Pattern
        && let (Some(want), Some((got, by))) = (&g.pattern, typed_image(pod))
        && !got.is_empty()
        && policy_pattern(got) != *want
    {
        out.push(format!(
            "{}: `validation_regex: {got}` ({}) is not the policy's pattern `{want}`",
            pod.label,
            by.describe()
        ));
    }
    out
}

impl Control for ProfileImages {
    fn reads_profiles(&self) -> bool {
        true
    }
    fn def(&self) -> &'static ControlDef {
        &IMAGES
    }
    fn selected(&self, p: &Policy) -> Selected {
        let g = &p.spec.profiles;
        match (g.free_form_images, &g.pattern) {
            (FreeFormImages::Pattern, Some(re)) => free_form::PATTERN.with(re.clone()),
            (m, _) => free_form::of(m).selected(),
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let g = &p.spec.profiles;
        match (g.free_form_images, &g.pattern) {
            (FreeFormImages::Pattern, None) => cx.error(
                IMAGES.field,
                "`freeFormImages: pattern` needs `pattern`, the expression typed images must match",
                "add `pattern: '^registry\\.example\\.org/[a-z-]+:[0-9.]+$'` (anchored at both ends), or choose `refuse`",
            ),
            (FreeFormImages::Pattern, Some(re)) => cx.note(
                &format!("{PTR}/pattern"),
                format!(
                    "the policy writes no `profileList`: give every `unlisted_choice` that types an image \
                     `validation_regex: '{re}'`; KubeSpawner (6.2.0 in chart 3.x, 7.0.0 in 4.x) refuses a typed value it does not match"
                ),
            ),
            (_, Some(_)) => cx.warn(
                &format!("{PTR}/pattern"),
                "`profiles.pattern` is ignored: only `freeFormImages: pattern` reads it",
                "remove it, or set `freeFormImages: pattern`",
            ),
            (FreeFormImages::Refuse, None) => cx.note(
                IMAGES.field,
                "the policy writes no `profileList`: `check` and `audit` report a profile option that takes a typed image",
            ),
            (FreeFormImages::Any, None) => {}
        }
        // A ceiling below the default limit refuses the default server.
        let r = &p.spec.resources;
        if let (Some(max), Some(lim)) = (&g.max_cpu, &r.cpu.limit)
            && super::resources::cpu_cores(max) < super::resources::cpu_cores(lim)
        {
            cx.error(
                &format!("{PTR}/maxCpu"),
                format!(
                    "`profiles.maxCpu` ({}) is below `resources.cpu.limit` ({}): the default user server would be over it",
                    cpu_quantity(max),
                    cpu_quantity(lim)
                ),
                "raise `maxCpu` to at least the default limit",
            );
        }
        if let (Some(max), Some(lim)) = (&g.max_memory, &r.memory.limit)
            && quantity_value(max) < quantity_value(lim)
        {
            cx.error(
                &format!("{PTR}/maxMemory"),
                format!(
                    "`profiles.maxMemory` ({max}) is below `resources.memory.limit` ({lim}): the default user server would be over it"
                ),
                "raise `maxMemory` to at least the default limit",
            );
        }
        user_image_fits(p, cx);
        if !g.images.registries.is_empty() || g.images.require_digest {
            cx.note(
                &format!("{PTR}/images"),
                "the admission policy refuses every user container (init and ephemeral ones too) whose image breaks \
                 `profiles.images`; list the registries of sidecars and init containers as well",
            );
        }
    }
    fn judge(&self, v: &ValuesView) -> Judgement {
        v.judge_pods(&IMAGES, |pod, _| grade(pod))
    }
    fn parameters(&self, p: &Policy, v: &ValuesView) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (pod, _) in v.pods() {
            for m in misses(p, pod) {
                if !out.contains(&m) {
                    out.push(m);
                }
            }
        }
        out
    }
    fn admission(&self, p: &Policy) -> Vec<Validation> {
        let g = &p.spec.profiles;
        let mut out = Vec::new();
        if !g.images.registries.is_empty() {
            let alts: Vec<String> = g
                .images
                .registries
                .iter()
                .map(|r| {
                    let p = r.0.trim_end_matches('/');
                    let starts = ["/", ":", "@"]
                        .iter()
                        .map(|s| format!("c.image.startsWith({})", cel::string(&format!("{p}{s}"))))
                        .collect::<Vec<_>>()
                        .join(" || ");
                    format!("c.image == {} || {starts}", cel::string(p))
                })
                .collect();
            let names: Vec<&str> = g.images.registries.iter().map(|r| r.0.as_str()).collect();
            out.push(Validation::user(
                "/spec/profiles/images/registries",
                format!(
                    "every container image must come from an allowed registry: {}",
                    names.join(", ")
                ),
                every_user_container(p, Lists::All, &format!("({})", alts.join(" || "))),
            ));
        }
        if g.images.require_digest {
            out.push(Validation::user(
                "/spec/profiles/images/requireDigest",
                "every container image must be pinned by digest (…@sha256:<64 hex>)",
                every_user_container(p, Lists::All, "c.image.matches(\"@sha256:[0-9a-f]{64}$\")"),
            ));
        }
        if let Some(max) = &g.max_cpu {
            let max = cpu_quantity(max);
            out.push(Validation::user(
                "/spec/profiles/maxCpu",
                format!("every container and init container must set resources.limits.cpu, at most {max}"),
                every_user_container(p, Lists::WithResources, &limit_at_most("cpu", &max)),
            ));
        }
        if let Some(max) = &g.max_memory {
            out.push(Validation::user(
                "/spec/profiles/maxMemory",
                format!("every container and init container must set resources.limits.memory, at most {max}"),
                every_user_container(p, Lists::WithResources, &limit_at_most("memory", max)),
            ));
        }
        out
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        let g = &mut p.spec.profiles;
        g.free_form_images =
            super::value_of(&free_form::MODES, free_form::of, &got).unwrap_or(FreeFormImages::Any);
        g.pattern = None;
        if !got.is(&free_form::PATTERN) {
            return Vec::new();
        }
        let mut seen: Vec<&str> = Vec::new();
        for (pod, _) in v.pods() {
            if let Some((re, _)) = typed_image(pod)
                && !re.is_empty()
                && !seen.contains(&re)
            {
                seen.push(re);
            }
        }
        g.pattern = seen.first().map(|re| policy_pattern(re));
        if seen.len() > 1 {
            return vec![format!(
                "profiles check typed images with {} different `validation_regex`es; the proposal takes the first, `{}`",
                seen.len(),
                seen[0]
            )];
        }
        Vec::new()
    }
}

#[cfg(test)]
mod mapping_tests {
    use super::weakening::{WEAKEN, weaken};
    use super::*;

    #[test]
    fn every_setting_maps_back_to_its_mode() {
        super::super::assert_every_setting_maps_back(&IMAGES, &free_form::MODES, free_form::of);
        super::super::assert_every_setting_maps_back(&WEAKEN, &weaken::MODES, weaken::of);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effective::Deployment;
    use serde_json::json;

    /// The free-form setting of each pod of a one-profile list whose image
    /// option has an unlisted choice with `regex` (none when `None`).
    fn read(regex: Option<&str>, image: &str) -> Vec<(String, &'static str)> {
        let mut unlisted = json!({"enabled": true, "kubespawner_override": {"image": image}});
        if let Some(r) = regex {
            unlisted["validation_regex"] = json!(r);
        }
        let v = json!({"singleuser": {"image": {"name": "quay.io/jupyter/base-notebook", "tag": "1"},
            "profileList": [{"display_name": "Env", "slug": "env", "profile_options": {"image": {
                "choices": {"scipy": {"kubespawner_override": {"image": "quay.io/jupyter/scipy-notebook:1"}}},
                "unlisted_choice": unlisted}}}]}});
        Deployment::build(&v, Some("4.4.0"), &[])
            .pods
            .iter()
            .map(|(p, _)| match grade(p) {
                Verdict::Found(f) => (p.label.clone(), f.setting.name),
                Verdict::Unknown { .. } => (p.label.clone(), "?"),
            })
            .collect()
    }

    fn weakest(regex: Option<&str>, image: &str) -> &'static str {
        let all = read(regex, image);
        ["?", "any", "pattern", "refuse"]
            .into_iter()
            .find(|s| all.iter().any(|(_, x)| x == s))
            .unwrap_or("none")
    }

    #[test]
    fn typed_images_are_read_by_how_kubespawner_checks_them() {
        assert_eq!(weakest(None, "{value}"), "any");
        assert_eq!(
            weakest(Some(r"^quay\.io/jupyter/.+$"), "{value}"),
            "pattern"
        );
        // `re.match` anchors the start itself; only a missing end is open.
        assert_eq!(weakest(Some(r"quay\.io/jupyter/.+$"), "{value}"), "pattern");
        assert_eq!(weakest(Some(r"^quay\.io/jupyter/"), "{value}"), "any");
        assert_eq!(weakest(Some(r"^quay\.io/jupyter/.+|^x$"), "{value}"), "any");
        // A template that puts the typed text into the tag is still typed.
        assert_eq!(
            weakest(None, "quay.io/jupyter/scipy-notebook:{value}"),
            "any"
        );
        // Look-around is not read: the reading says so rather than guess.
        assert_eq!(weakest(Some(r"^(?=quay).+$"), "{value}"), "?");
    }

    #[test]
    fn a_deployment_regex_becomes_an_anchored_policy_pattern() {
        assert_eq!(policy_pattern(r"^a\.b/.+$"), r"^a\.b/.+$");
        // As `re.match` reads it: the start is anchored, alternatives too.
        assert_eq!(policy_pattern(r"a/.+$|b/.+$"), r"^(?:a/.+$|b/.+$)");
        let p = policy_pattern(r"quay\.io/.+$");
        assert!(crate::validate::formats::anchored_regex(&p).is_ok(), "{p}");
    }

    #[test]
    fn an_unlisted_choice_that_types_no_image_is_no_free_form_image() {
        let v = json!({"singleuser": {"profileList": [{"display_name": "Env", "profile_options": {"tag": {
            "choices": {"a": {"kubespawner_override": {"default_url": "/lab"}}},
            "unlisted_choice": {"enabled": true, "kubespawner_override": {"default_url": "/{value}"}}}}}]}});
        let d = Deployment::build(&v, Some("4.4.0"), &[]);
        assert!(d.pods.len() >= 2);
        for (p, _) in &d.pods {
            assert!(
                matches!(grade(p), Verdict::Found(f) if f.is(&free_form::REFUSE)),
                "{}",
                p.label
            );
        }
    }
}

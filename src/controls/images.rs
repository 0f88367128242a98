//! Supply chain of the user image: pull policy and pinning.

use serde_json::json;

use super::cloud_metadata::every_user_container;
use super::{Control, ControlDef, ReadBack, ValuesView};
use crate::admission::Validation;
use crate::admission::cel::{self, Lists};
use crate::controls::lowering::Lowering;
use crate::plan::Selected;
use crate::policy::{Policy, PullPolicy};

pub struct PullPolicyControl;

/// Settings of `image-pull-policy`.
pub(crate) mod pull {
    use crate::controls::Setting;
    use crate::policy::PullPolicy;

    pub static ALWAYS: Setting = Setting {
        name: "always",
        rank: 0,
        summary: "`singleuser.image.pullPolicy: Always`",
    };
    pub static IF_NOT_PRESENT: Setting = Setting {
        name: "if-not-present",
        rank: 1,
        summary: "`IfNotPresent`: cached images are reused",
    };
    pub static CHART_DEFAULT: Setting = Setting {
        name: "chart-default",
        rank: 2,
        summary: "the chart's default (unset: Kubernetes decides from the tag)",
    };

    pub const POLICIES: [PullPolicy; 3] = [
        PullPolicy::Always,
        PullPolicy::IfNotPresent,
        PullPolicy::ChartDefault,
    ];

    /// The setting of each pull policy.
    pub fn of(p: PullPolicy) -> &'static Setting {
        match p {
            PullPolicy::Always => &ALWAYS,
            PullPolicy::IfNotPresent => &IF_NOT_PRESENT,
            PullPolicy::ChartDefault => &CHART_DEFAULT,
        }
    }
}

static PULL: ControlDef = ControlDef {
    id: "image-pull-policy",
    title: "Pull policy of the user image",
    field: "/spec/images/pullPolicy",
    rationale: "`Always` makes the node check with the registry on every start, so a private image is never served \
        from a node's cache to someone without pull rights and a moved tag is picked up.",
    settings: &[&pull::ALWAYS, &pull::IF_NOT_PRESENT, &pull::CHART_DEFAULT],
    values_keys: &["singleuser.image.pullPolicy"],
    read_only_keys: &[],
    spawner_traits: &["image_pull_policy"],
};

impl Control for PullPolicyControl {
    fn def(&self) -> &'static ControlDef {
        &PULL
    }
    fn selected(&self, p: &Policy) -> Selected {
        pull::of(p.spec.images.pull_policy).selected()
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let v = match p.spec.images.pull_policy {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::ChartDefault => return,
        };
        cx.set(&["singleuser", "image", "pullPolicy"], json!(v));
    }
    fn judge(&self, v: &ValuesView) -> super::Judgement {
        let keys = {
            ReadBack::Setting(
                match v.str(&["singleuser", "image", "pullPolicy"]) {
                    Some("Always") => &pull::ALWAYS,
                    Some("IfNotPresent") => &pull::IF_NOT_PRESENT,
                    _ => &pull::CHART_DEFAULT,
                }
                .selected(),
            )
        };
        super::reconcile(
            keys,
            v.judge_pods(&PULL, crate::effective::grade::pull_policy),
        )
    }
    fn admission(&self, p: &Policy) -> Vec<Validation> {
        // The API server defaults imagePullPolicy before validation, so it is always set.
        let (allowed, rule): (&[&str], _) = match p.spec.images.pull_policy {
            PullPolicy::Always => (
                &["Always"],
                "every container must pull its image with imagePullPolicy: Always",
            ),
            PullPolicy::IfNotPresent => (
                &["Always", "IfNotPresent"],
                "every container must pull its image with imagePullPolicy Always or IfNotPresent, never Never",
            ),
            PullPolicy::ChartDefault => return Vec::new(),
        };
        let pred = format!(
            "has(c.imagePullPolicy) && c.imagePullPolicy in {}",
            cel::strings(allowed)
        );
        vec![Validation::user(
            PULL.field,
            rule,
            every_user_container(p, Lists::All, &pred),
        )]
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        if let Some(got) = super::read_setting(self, v) {
            p.spec.images.pull_policy = super::value_of(&pull::POLICIES, pull::of, &got)
                .unwrap_or(PullPolicy::ChartDefault);
        }
        Vec::new()
    }
}

pub struct ImagePinning;

/// Settings of `image-pinning`.
pub(crate) mod pin {
    use crate::controls::Setting;

    pub static DIGEST: Setting = Setting {
        name: "digest",
        rank: 0,
        summary: "`name:tag@sha256:…` — the content is fixed",
    };
    pub static TAG: Setting = Setting {
        name: "tag",
        rank: 1,
        summary: "`name:tag` — the registry decides what the tag means",
    };
    pub static CHART_DEFAULT: Setting = Setting {
        name: "chart-default",
        rank: 2,
        summary: "the chart's default user image",
    };
}

static PIN: ControlDef = ControlDef {
    id: "image-pinning",
    title: "Pinning of the user image",
    field: "/spec/images/userImage",
    rationale: "A tag can be moved to different content; a digest names exactly the image that was reviewed.",
    settings: &[&pin::DIGEST, &pin::TAG, &pin::CHART_DEFAULT],
    values_keys: &["singleuser.image.name", "singleuser.image.tag"],
    read_only_keys: &[],
    spawner_traits: &["image"],
};

impl Control for ImagePinning {
    fn def(&self) -> &'static ControlDef {
        &PIN
    }
    fn selected(&self, p: &Policy) -> Selected {
        match &p.spec.images.user_image {
            Some(img) if img.digest.is_some() => pin::DIGEST.with(img.name.clone()),
            Some(img) => pin::TAG.with(format!("{}:{}", img.name, img.tag)),
            None => pin::CHART_DEFAULT.selected(),
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let Some(img) = &p.spec.images.user_image else {
            return;
        };
        cx.set(&["singleuser", "image", "name"], json!(img.name));
        let tag = match &img.digest {
            Some(d) => format!("{}@{d}", img.tag),
            None => img.tag.clone(),
        };
        cx.set(&["singleuser", "image", "tag"], json!(tag));
        if img.digest.is_none() {
            if img.tag == "latest" {
                cx.warn(
                    PIN.field,
                    "the user image tag `latest` changes under you",
                    "pin a dated tag, and a digest (`userImage.digest`)",
                );
            } else {
                cx.note(
                    PIN.field,
                    "the user image is pinned by tag only; add `digest` to pin its content",
                );
            }
        }
    }
    fn judge(&self, v: &ValuesView) -> super::Judgement {
        let keys = (|| -> ReadBack {
            let tag = v.str(&["singleuser", "image", "tag"]).unwrap_or_default();
            let default_tag = v
                .defaults
                .pointer("/singleuser/image/tag")
                .and_then(serde_json::Value::as_str);
            let name = v
                .str(&["singleuser", "image", "name"])
                .unwrap_or_default()
                .to_string();
            let unset = |k: &str| v.get(&["singleuser", "image", k]).is_none();
            if unset("name") && unset("tag") {
                // Neither the values nor the known defaults name an image.
                return ReadBack::Setting(pin::CHART_DEFAULT.selected());
            }
            ReadBack::Setting(if tag.contains("@sha256:") {
                pin::DIGEST.with(name)
            } else if Some(tag) == default_tag
                && v.get(&["singleuser", "image", "name"])
                    == v.defaults.pointer("/singleuser/image/name")
            {
                pin::CHART_DEFAULT.selected()
            } else {
                pin::TAG.with(format!("{name}:{tag}"))
            })
        })();
        let default_image = default_image(v);
        super::reconcile(
            keys,
            v.judge_pods(&PIN, |p, _| {
                crate::effective::grade::pinning(p, default_image.as_deref())
            }),
        )
    }
    fn admission(&self, p: &Policy) -> Vec<Validation> {
        match &p.spec.images.user_image {
            Some(img) if img.digest.is_some() => vec![Validation::user(
                PIN.field,
                "every container image must be pinned by digest (…@sha256:<64 hex>)",
                every_user_container(p, Lists::All, "c.image.matches(\"@sha256:[0-9a-f]{64}$\")"),
            )],
            _ => Vec::new(),
        }
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        use crate::validate::formats::{image_digest, image_name, image_tag};
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        if got.is(&pin::CHART_DEFAULT) {
            p.spec.images.user_image = None;
            return Vec::new();
        }
        let name = v.str(&["singleuser", "image", "name"]).unwrap_or_default();
        let full = v.str(&["singleuser", "image", "tag"]).unwrap_or_default();
        let (tag, digest) = match full.split_once('@') {
            Some((t, d)) => (t, Some(d.to_string())),
            None => (full, None),
        };
        if image_name(name).is_err()
            || image_tag(tag).is_err()
            || digest.as_deref().is_some_and(|d| image_digest(d).is_err())
        {
            p.spec.images.user_image = None;
            return vec![format!(
                "the user image `{name}:{full}` does not fit `images.userImage`; left to the chart default"
            )];
        }
        p.spec.images.user_image = Some(crate::policy::UserImage {
            name: name.to_string(),
            tag: tag.to_string(),
            digest,
        });
        Vec::new()
    }
}

/// The chart's own user image (`name:tag` of the defaults), if known.
fn default_image(v: &ValuesView) -> Option<String> {
    let name = v.defaults.pointer("/singleuser/image/name")?.as_str()?;
    match v
        .defaults
        .pointer("/singleuser/image/tag")
        .and_then(serde_json::Value::as_str)
    {
        Some(t) if !t.is_empty() => Some(format!("{name}:{t}")),
        _ => Some(name.to_string()),
    }
}

#[cfg(test)]
mod mapping_tests {
    use super::*;

    /// Every setting is some pull policy's: the list of pull policies misses none.
    #[test]
    fn every_setting_maps_back_to_its_pull_policy() {
        super::super::assert_every_setting_maps_back(&PULL, &pull::POLICIES, pull::of);
    }
}

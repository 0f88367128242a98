//! Supply chain of the user image: pull policy and pinning.

use serde_json::json;

use super::cloud_metadata::every_user_container;
use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::admission::Validation;
use crate::admission::cel::{self, Lists};
use crate::lower::Lowering;
use crate::plan::Selected;
use crate::policy::{Policy, PullPolicy};

pub struct PullPolicyControl;

static PULL: ControlDef = ControlDef {
    id: "image-pull-policy",
    title: "Pull policy of the user image",
    field: "/spec/images/pullPolicy",
    rationale: "`Always` makes the node check with the registry on every start, so a private image is never served \
        from a node's cache to someone without pull rights and a moved tag is picked up.",
    settings: &[
        Setting {
            name: "always",
            rank: 0,
            summary: "`singleuser.image.pullPolicy: Always`",
        },
        Setting {
            name: "if-not-present",
            rank: 1,
            summary: "`IfNotPresent`: cached images are reused",
        },
        Setting {
            name: "chart-default",
            rank: 2,
            summary: "the chart's default (unset: Kubernetes decides from the tag)",
        },
    ],
    values_keys: &["singleuser.image.pullPolicy"],
    spawner_traits: &["image_pull_policy"],
};

impl Control for PullPolicyControl {
    fn def(&self) -> &'static ControlDef {
        &PULL
    }
    fn selected(&self, p: &Policy) -> Selected {
        Selected::of(match p.spec.images.pull_policy {
            PullPolicy::Always => 0,
            PullPolicy::IfNotPresent => 1,
            PullPolicy::ChartDefault => 2,
        })
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
            ReadBack::Setting(Selected::of(
                match v.str(&["singleuser", "image", "pullPolicy"]) {
                    Some("Always") => 0,
                    Some("IfNotPresent") => 1,
                    _ => 2,
                },
            ))
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
            p.spec.images.pull_policy = match got.index {
                0 => PullPolicy::Always,
                1 => PullPolicy::IfNotPresent,
                _ => PullPolicy::ChartDefault,
            };
        }
        Vec::new()
    }
}

pub struct ImagePinning;

static PIN: ControlDef = ControlDef {
    id: "image-pinning",
    title: "Pinning of the user image",
    field: "/spec/images/userImage",
    rationale: "A tag can be moved to different content; a digest names exactly the image that was reviewed.",
    settings: &[
        Setting {
            name: "digest",
            rank: 0,
            summary: "`name:tag@sha256:…` — the content is fixed",
        },
        Setting {
            name: "tag",
            rank: 1,
            summary: "`name:tag` — the registry decides what the tag means",
        },
        Setting {
            name: "chart-default",
            rank: 2,
            summary: "the chart's default user image",
        },
    ],
    values_keys: &["singleuser.image.name", "singleuser.image.tag"],
    spawner_traits: &["image"],
};

impl Control for ImagePinning {
    fn def(&self) -> &'static ControlDef {
        &PIN
    }
    fn selected(&self, p: &Policy) -> Selected {
        match &p.spec.images.user_image {
            Some(img) if img.digest.is_some() => Selected::with(0, img.name.clone()),
            Some(img) => Selected::with(1, format!("{}:{}", img.name, img.tag)),
            None => Selected::of(2),
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
                return ReadBack::Setting(Selected::of(2));
            }
            ReadBack::Setting(if tag.contains("@sha256:") {
                Selected::with(0, name)
            } else if Some(tag) == default_tag
                && v.get(&["singleuser", "image", "name"])
                    == v.defaults.pointer("/singleuser/image/name")
            {
                Selected::of(2)
            } else {
                Selected::with(1, format!("{name}:{tag}"))
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
        if got.index == 2 {
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

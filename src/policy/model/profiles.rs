//! What users may choose through KubeSpawner's `profile_list`
//! (`singleuser.profileList`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Cpu;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Profiles {
    /// Images a profile or profile option may name.
    #[serde(default)]
    pub images: ProfileImages,
    /// Whether an option may take an image the user types in
    /// (`unlisted_choice`).
    pub free_form_images: FreeFormImages,
    /// With `freeFormImages: pattern`: the regular expression every typed
    /// image must match, anchored at both ends (`^…$`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "anchored-regex"))]
    pub pattern: Option<String>,
    /// Highest CPU limit a profile or option may give a user server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cpu: Option<Cpu>,
    /// Highest memory limit a profile or option may give (`16Gi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "binary-quantity"))]
    pub max_memory: Option<String>,
    /// Whether a profile may make a control weaker than the hub's default
    /// user pod.
    pub may_weaken: MayWeaken,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProfileImages {
    /// Allowed image prefixes, matched on whole path segments
    /// (`quay.io/jupyter` allows `quay.io/jupyter/scipy-notebook:2025-01-06`,
    /// not `quay.io/jupyter-evil/x`); empty allows every registry. Images
    /// are matched as written: `jupyter/x` is not `docker.io/jupyter/x`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registries: Vec<ImagePrefix>,
    /// Every image must be pinned by digest (`…@sha256:<64 hex>`).
    #[serde(default)]
    pub require_digest: bool,
}

/// An image prefix: a registry host, optionally with repository path.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(transparent)]
pub struct ImagePrefix(#[schemars(extend("format" = "image-prefix"))] pub String);

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FreeFormImages {
    /// No option may take a typed image.
    Refuse,
    /// Typed images must match `pattern` (KubeSpawner's `validation_regex`).
    Pattern,
    /// Any typed image.
    Any,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum MayWeaken {
    /// No profile or option may weaken a control.
    None,
    /// Profiles may weaken controls (admission still holds every pod).
    Any,
}

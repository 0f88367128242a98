//! The intermediate representation between lowering and rendering: every
//! Helm value and manifest the policy asks for, each with the control and
//! policy field (and preset) that produced it.

use serde::Serialize;
use serde_json::Value;

use crate::controls::Setting;
use crate::diag::Diagnostic;

/// Which control and which written policy setting produced an output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub control: &'static str,
    /// Dotted policy field, e.g. `spec.cloudMetadata.mode`.
    pub field: String,
    /// File (or `preset:NAME`) that supplied the setting.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// Line in `source` (0 when unknown).
    pub line: u32,
}

/// One Helm value at a path of keys (keys may contain dots).
#[derive(Debug, Clone, Serialize)]
pub struct ValueEntry {
    pub path: Vec<String>,
    pub value: Value,
    /// When true the value is one item of a list that several controls fill.
    pub append: bool,
    pub origin: Origin,
}

/// The file a manifest is written to, one per concern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    Namespace,
    /// Cluster-wide runtime objects user pods need before they exist (RuntimeClass).
    Runtime,
    Rbac,
    Network,
    Storage,
    Quota,
    Admission,
}

impl Group {
    pub const ALL: [Group; 7] = [
        Group::Namespace,
        Group::Runtime,
        Group::Rbac,
        Group::Network,
        Group::Storage,
        Group::Quota,
        Group::Admission,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Group::Namespace => "namespace",
            Group::Runtime => "runtime",
            Group::Rbac => "rbac",
            Group::Network => "network",
            Group::Storage => "storage",
            Group::Quota => "quota",
            Group::Admission => "admission",
        }
    }
}

/// A manifest to render from a template with a context.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestRequest {
    pub group: Group,
    pub template: &'static str,
    pub context: Value,
    pub origin: Origin,
    /// Written as YAML comment lines above the rendered objects.
    pub comment: Option<String>,
}

/// The setting a control is at (one of its definition's settings, by
/// identity) plus an optional detail (e.g. the number of extra egress
/// rules). Made by [`Setting::selected`] and [`Setting::with`].
#[derive(Debug, Clone, Serialize)]
pub struct Selected {
    pub setting: &'static Setting,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Selected {
    /// At setting `s` (the very setting, not one that looks alike).
    pub fn is(&self, s: &Setting) -> bool {
        std::ptr::eq(self.setting, s)
    }
}

impl PartialEq for Selected {
    fn eq(&self, other: &Selected) -> bool {
        self.is(other.setting) && self.detail == other.detail
    }
}

impl Eq for Selected {}

/// Everything lowering produced for one policy.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    pub chart_version: String,
    pub values: Vec<ValueEntry>,
    pub manifests: Vec<ManifestRequest>,
    /// (control id, selected setting), in control order.
    pub settings: Vec<(&'static str, Selected)>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Plan {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

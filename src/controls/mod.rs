//! The security controls. Each control is defined once, in its own module:
//! its policy field, its settings from strongest to weakest with the
//! rationale and trade-off, how it expands into values and manifests per
//! chart line, and how its state is read back from a values file.
//! Compile, explain, diff, check and audit all go through [`ALL`].

mod api_access;
mod bandwidth;
mod chart_pods;
mod cloud_metadata;
mod egress;
mod https;
mod images;
mod internal_tls;
mod network_policy;
mod pids;
pub mod pod_security;
mod quota;
mod resources;
mod storage;
mod user_pods;

use serde::Serialize;
use serde_json::Value;

use crate::chart::ChartLine;
use crate::lower::Lowering;
use crate::plan::Selected;
use crate::policy::Policy;

/// One setting of a control.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Setting {
    pub name: &'static str,
    /// Strength: 0 is strongest; equal ranks are equally strong.
    pub rank: u8,
    /// What the setting does, in one line.
    pub summary: &'static str,
}

/// The fixed description of a control.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ControlDef {
    pub id: &'static str,
    pub title: &'static str,
    /// JSON pointer of the policy field that selects the setting.
    pub field: &'static str,
    /// Why the control matters, and the trade-off it asks you to make.
    pub rationale: &'static str,
    /// Settings, strongest first.
    pub settings: &'static [Setting],
}

impl ControlDef {
    /// The field in dotted form, as users write it.
    pub fn dotted_field(&self) -> String {
        crate::validate::schema_check::dotted(self.field)
    }

    pub fn setting(&self, s: &Selected) -> &'static Setting {
        &self.settings[s.index.min(self.settings.len() - 1)]
    }
}

/// What a values file says about a control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum ReadBack {
    Setting(Selected),
    /// The state depends on something that cannot be read statically.
    CannotVerify {
        reason: String,
    },
}

/// Merged values (user files over the chart defaults) plus manifests, for read-back.
pub struct ValuesView<'a> {
    pub values: &'a Value,
    /// The chart's own defaults (`Value::Null` when unknown).
    pub defaults: &'a Value,
    /// Emitted manifests; `None` when only values are known (an audit of
    /// existing values), `Some` (possibly empty) after a compile.
    pub manifests: Option<&'a [Value]>,
    pub chart: ChartLine,
}

impl ValuesView<'_> {
    pub fn get(&self, path: &[&str]) -> Option<&Value> {
        crate::values::get(self.values, path)
    }
    pub fn bool(&self, path: &[&str]) -> Option<bool> {
        crate::values::get_bool(self.values, path)
    }
    pub fn str(&self, path: &[&str]) -> Option<&str> {
        crate::values::get_str(self.values, path)
    }
    /// `hub.extraConfig` holds Python that may change anything KubeSpawner does.
    pub fn extra_config_mentions(&self, needle: &str) -> bool {
        self.get(&["hub", "extraConfig"])
            .and_then(Value::as_object)
            .is_some_and(|m| {
                m.values()
                    .filter_map(Value::as_str)
                    .any(|code| code.contains(needle))
            })
    }
    pub fn manifest(&self, kind: &str, name: Option<&str>) -> Option<&Value> {
        self.manifests.unwrap_or_default().iter().find(|m| {
            m.get("kind").and_then(Value::as_str) == Some(kind)
                && name
                    .is_none_or(|n| m.pointer("/metadata/name").and_then(Value::as_str) == Some(n))
        })
    }
}

/// A security control.
pub trait Control: Sync {
    fn def(&self) -> &'static ControlDef;
    /// The setting the policy selects.
    fn selected(&self, p: &Policy) -> Selected;
    /// Cross-field checks, then expansion into values, manifests and notes.
    fn lower(&self, p: &Policy, cx: &mut Lowering);
    /// The setting a set of values (and manifests) puts in force.
    fn read_back(&self, v: &ValuesView) -> ReadBack;
}

/// Every control, in the order their output appears.
pub static ALL: &[&dyn Control] = &[
    &api_access::ApiAccessControl,
    &api_access::ProxyToken,
    &cloud_metadata::CloudMetadataControl,
    &user_pods::IdentityControl,
    &user_pods::RunAsNonRoot,
    &user_pods::PrivilegeEscalation,
    &user_pods::CapabilitiesControl,
    &user_pods::Seccomp,
    &user_pods::AppArmor,
    &chart_pods::Hardening,
    &chart_pods::ChartResourcesControl,
    &pod_security::PodSecurityAdmission,
    &storage::StorageControl,
    &https::HttpsControl,
    &internal_tls::InternalTlsControl,
    &network_policy::NetworkPolicyControl,
    &egress::EgressControl,
    &bandwidth::BandwidthControl,
    &resources::ResourcesControl,
    &quota::QuotaControl,
    &pids::PidsControl,
    &images::PullPolicyControl,
    &images::ImagePinning,
];

pub fn by_id(id: &str) -> Option<&'static dyn Control> {
    ALL.iter().copied().find(|c| c.def().id == id)
}

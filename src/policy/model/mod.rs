//! The policy language: the typed form of a `HubPolicy` after presets are merged.
//!
//! Every type here derives `JsonSchema`; `z2jh-policy schema` prints that
//! schema and the validator checks files against it, so the language is
//! defined in exactly one place. String fields that need deep checks carry a
//! custom `format` (see `validate::formats`), which is enforced in the same
//! pass as type errors so that one run reports every problem.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A complete JupyterHub security policy.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "HubPolicy")]
pub struct Policy {
    /// Must be `z2jh-policy/v1`.
    pub api_version: ApiVersion,
    /// Must be `HubPolicy`.
    pub kind: PolicyKind,
    pub metadata: Metadata,
    /// Preset name (`baseline`, `restricted`) or a path, relative to this file,
    /// to a policy this one builds on. Defaults to `baseline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    /// z2jh chart version the output targets, e.g. `4.4.0` or `3.3.8`.
    #[schemars(extend("format" = "chart-version"))]
    pub chart: String,
    /// Oldest chart release the hub may run, e.g. `4.3.4` (a release that
    /// fixes the advisories you care about). `compile` refuses an older
    /// `chart`; `check` and `audit` report an older installed release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "chart-version"))]
    pub minimum_chart: Option<String>,
    /// Oldest Kubernetes minor version the cluster runs, e.g. `1.30`.
    #[schemars(extend("format" = "kubernetes-version"))]
    pub kubernetes_version: String,
    /// The cluster's network plugin. Egress by host name
    /// (`spec.egress.allowHosts`) needs `cilium`.
    #[serde(default, skip_serializing_if = "NetworkPlugin::is_unknown")]
    pub network_plugin: NetworkPlugin,
    pub spec: Spec,
    /// Controls run weaker than `spec` asks, each with a reason, an owner
    /// and an expiry date. A file's exceptions add to those of the policy
    /// it extends.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<Exception>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum ApiVersion {
    #[serde(rename = "z2jh-policy/v1")]
    V1,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum PolicyKind {
    HubPolicy,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metadata {
    /// Name of the hub (DNS-1123 label); used to name emitted objects.
    #[schemars(extend("format" = "k8s-name"))]
    pub name: String,
    /// Namespace the chart is installed into (DNS-1123 label).
    #[schemars(extend("format" = "k8s-name"))]
    pub namespace: String,
}

/// What the policy requires. Each field is one security control.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
    pub api_access: ApiAccess,
    pub pod_security: PodSecurity,
    pub cloud_metadata: CloudMetadata,
    pub user_pods: UserPods,
    pub chart_pods: ChartPods,
    pub storage: Storage,
    pub https: Https,
    pub exposure: Exposure,
    pub browser: Browser,
    pub secrets: Secrets,
    pub access: Access,
    pub internal_tls: InternalTls,
    pub network_policy: NetworkPolicies,
    pub egress: Egress,
    pub bandwidth: Bandwidth,
    pub resources: Resources,
    pub quota: Quota,
    pub pids: Pids,
    pub images: Images,
    pub profiles: Profiles,
    pub admission: Admission,
}

mod access;
mod browser;
mod exceptions;
mod exposure;
mod limits;
mod login;
mod network;
mod profiles;
mod storage;

pub use access::*;
pub use browser::*;
pub use exceptions::*;
pub use exposure::*;
pub use limits::*;
pub use login::*;
pub use network::*;
pub use profiles::*;
pub use storage::*;

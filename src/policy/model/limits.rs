//! Bandwidth, resources, quota, PIDs, images and admission.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Bandwidth {
    /// Traffic into each user pod, bits per second (`50M` = 50 Mbit/s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "quantity"))]
    pub ingress: Option<String>,
    /// Traffic out of each user pod, bits per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "quantity"))]
    pub egress: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Resources {
    pub cpu: CpuRange,
    pub memory: QuantityRange,
    pub ephemeral_storage: QuantityRange,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CpuRange {
    /// Cores: a number (`0.5`) or millicores (`500m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guarantee: Option<Cpu>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Cpu>,
}

/// CPU cores as a number or a millicore string.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(untagged)]
pub enum Cpu {
    Cores(#[schemars(range(min = 0.001))] f64),
    Text(#[schemars(extend("format" = "cpu"))] String),
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QuantityRange {
    /// Binary quantity (`512Mi`, `4Gi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "binary-quantity"))]
    pub guarantee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "binary-quantity"))]
    pub limit: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Quota {
    /// Emit a ResourceQuota and LimitRange for the hub namespace.
    pub enabled: bool,
    /// Most user servers running at once; sizes the quota.
    #[schemars(range(min = 1, max = 100000))]
    pub max_users: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Pids {
    /// Most processes per pod. Enforced by the kubelet (`podPidsLimit`), not the chart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 64, max = 4194304))]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Images {
    /// Pull policy for the user image.
    pub pull_policy: PullPolicy,
    /// Pin the user image; omit to keep the chart's default image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_image: Option<UserImage>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PullPolicy {
    ChartDefault,
    Always,
    IfNotPresent,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserImage {
    #[schemars(extend("format" = "image-name"))]
    pub name: String,
    #[schemars(extend("format" = "image-tag"))]
    pub tag: String,
    /// `sha256:<64 hex>`; pins the exact image content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "image-digest"))]
    pub digest: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Admission {
    /// What the API server does with a user pod that breaks the policy: the
    /// `validationActions` of the emitted ValidatingAdmissionPolicyBinding
    /// (`off` emits none).
    pub mode: AdmissionMode,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum AdmissionMode {
    /// Refuse the pod.
    Deny,
    /// Admit it; the client sees a warning.
    Warn,
    /// Admit it; the API server's audit log records the violation.
    Audit,
    /// No admission policy.
    Off,
}

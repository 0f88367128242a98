//! API access, Pod Security Admission, cloud metadata, and the security contexts of user and chart pods.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Cidr, Port};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiAccess {
    /// Kubernetes API access for user pods.
    pub mode: ApiAccessMode,
    /// Mount a service-account token into the proxy pod (the chart does by default;
    /// the proxy never uses it).
    pub proxy_token: bool,
    /// Settings for `mode: workload-identity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_identity: Option<WorkloadIdentity>,
    /// Settings for `mode: pod-creator`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_creator: Option<PodCreator>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ApiAccessMode {
    /// No token in user pods.
    None,
    /// User pods run as one ServiceAccount bound to a cloud identity (GKE,
    /// EKS, AKS workload identity), with its token and no Kubernetes RBAC.
    WorkloadIdentity,
    /// Users may create pods (e.g. Dask) in a separate workload namespace.
    PodCreator,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadIdentity {
    /// ServiceAccount user pods run as, in the hub namespace; no Role or
    /// ClusterRole may be bound to it.
    #[schemars(extend("format" = "k8s-subdomain"))]
    pub service_account: String,
    /// How the cloud binds the account to its identity. Omit it (and
    /// `identity`) when the ServiceAccount is managed elsewhere: nothing is
    /// emitted for it then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<IdentityProvider>,
    /// The cloud identity: `gke` an IAM service account email, `eks` and
    /// `eks-pod-identity` an IAM role ARN, `aks` a managed identity's client ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "cloud-identity"))]
    pub identity: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum IdentityProvider {
    /// Workload Identity Federation for GKE (`iam.gke.io/gcp-service-account`).
    Gke,
    /// EKS IAM roles for service accounts, IRSA (`eks.amazonaws.com/role-arn`).
    Eks,
    /// EKS Pod Identity: an association made with the EKS API, no annotation.
    EksPodIdentity,
    /// Microsoft Entra Workload ID on AKS (`azure.workload.identity/client-id`).
    Aks,
}

impl IdentityProvider {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityProvider::Gke => "gke",
            IdentityProvider::Eks => "eks",
            IdentityProvider::EksPodIdentity => "eks-pod-identity",
            IdentityProvider::Aks => "aks",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodCreator {
    /// ServiceAccount for user pods, created in the hub namespace.
    #[schemars(extend("format" = "k8s-name"))]
    pub service_account: String,
    /// Namespace where users' pods are created (never the hub namespace).
    #[schemars(extend("format" = "k8s-name"))]
    pub workload_namespace: String,
    /// The API server endpoints (post-DNAT IPs of the `kubernetes` Service).
    pub api_server: ApiServer,
    /// Extra rights: `pods/log` (get) and `pods/exec` (create).
    #[serde(default)]
    pub extra_permissions: Vec<PodCreatorExtra>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiServer {
    #[schemars(length(min = 1))]
    pub cidrs: Vec<Cidr>,
    #[schemars(length(min = 1))]
    pub ports: Vec<Port>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PodCreatorExtra {
    Logs,
    Exec,
}

// ---------------------------------------------------------------- Pod Security Admission

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodSecurity {
    /// Level enforced on the hub namespace; `auto` takes the strongest level
    /// the rest of the policy lets every pod meet.
    pub enforce: EnforceLevel,
    pub warn: PsaLevel,
    pub audit: PsaLevel,
    /// Pinned policy version (`v1.30`), `latest`, or `auto` (the policy's kubernetesVersion).
    #[schemars(extend("format" = "psa-version"))]
    pub version: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum EnforceLevel {
    Auto,
    Restricted,
    Baseline,
    Privileged,
    None,
}

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "kebab-case")]
pub enum PsaLevel {
    Restricted,
    Baseline,
    Privileged,
    None,
}

impl PsaLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            PsaLevel::Restricted => "restricted",
            PsaLevel::Baseline => "baseline",
            PsaLevel::Privileged => "privileged",
            PsaLevel::None => "none",
        }
    }
}

// ---------------------------------------------------------------- cloud metadata

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CloudMetadata {
    /// How user pods are kept from the cloud metadata server.
    pub mode: MetadataMode,
    /// The metadata server address.
    #[schemars(extend("format" = "ipv4"))]
    pub ip: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum MetadataMode {
    /// Excluded by the user NetworkPolicy (all ports; needs an enforcing CNI).
    NetworkPolicy,
    /// A privileged init container drops TCP/80 with iptables (chart default).
    Iptables,
    /// Reachable (e.g. for workload identity).
    Allow,
}

// ---------------------------------------------------------------- user pods

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserPods {
    pub identity: Identity,
    /// Require a non-root uid (`runAsNonRoot: true`).
    pub run_as_non_root: bool,
    pub allow_privilege_escalation: bool,
    pub capabilities: Capabilities,
    pub seccomp: Profile,
    pub app_armor: Profile,
    /// The Pod Security Standards level every user pod must meet; `auto`
    /// is the strongest level the settings above let them meet.
    #[serde(default)]
    pub level: PodLevel,
    /// The container runtime user pods run under: a sandbox (gVisor, Kata
    /// Containers) through a RuntimeClass, or the node's default runtime.
    #[serde(default)]
    pub runtime_class: RuntimeClass,
    /// Run user pods in the node's user namespace (`true`, the Kubernetes
    /// default) or in one of their own (`false`: `hostUsers: false`, uid 0
    /// in the pod is an unprivileged uid on the node). Kubernetes ≥ 1.33
    /// (1.30 with the `UserNamespacesSupport` feature gate).
    #[serde(default = "host_users_default")]
    pub host_users: bool,
    /// Mount the image's file system read-only in the notebook container
    /// (`readOnlyRootFilesystem: true`); `/tmp` (and the home directory
    /// when `storage.type` is `none`) become emptyDir volumes.
    #[serde(default)]
    pub read_only_root_filesystem: bool,
}

fn host_users_default() -> bool {
    true
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuntimeClass {
    #[serde(default)]
    pub mode: RuntimeMode,
    /// `sandboxed`: the RuntimeClass user pods run under (`runtimeClassName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "k8s-subdomain"))]
    pub name: Option<String>,
    /// `sandboxed`: emit the RuntimeClass `name` with this CRI handler, e.g.
    /// `runsc` (gVisor) or `kata`; omit when the cluster already has the
    /// class (GKE Sandbox's `gvisor`, a platform-managed Kata class).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "k8s-name"))]
    pub handler: Option<String>,
    /// `sandboxed`, with `handler`: where pods of the class may run (the
    /// RuntimeClass's `scheduling`, merged into every pod that uses it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling: Option<RuntimeScheduling>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RuntimeMode {
    /// User pods run under the RuntimeClass `name`: a sandbox with its own
    /// kernel (gVisor) or a lightweight VM (Kata Containers).
    Sandboxed,
    /// The node's default runtime: user pods share the node's kernel.
    #[default]
    DefaultRuntime,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuntimeScheduling {
    /// Labels of the nodes that have the handler installed.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(extend("propertyNames" = {"format": "qualified-name"}))]
    pub node_selector: IndexMap<String, LabelValue>,
    /// Taints of those nodes that pods of the class tolerate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
}

/// A label value: at most 63 letters, digits, `-`, `_` and `.`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(transparent)]
pub struct LabelValue(#[schemars(extend("format" = "label-value"))] pub String);

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Toleration {
    /// The taint key; omit with `operator: Exists` to tolerate every taint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "qualified-name"))]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<TolerationOperator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<LabelValue>,
    /// Omit to tolerate every effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<TaintEffect>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum TolerationOperator {
    Equal,
    Exists,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PodLevel {
    #[default]
    Auto,
    Restricted,
    Baseline,
    Privileged,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Identity {
    pub mode: IdentityMode,
    /// The uid for `mode: fixed`.
    pub uid: u32,
    /// Group of the home volume (`fsGroup`) and primary gid.
    pub fs_gid: u32,
    /// `mode: per-user`: uid = perUserBase + the user's hub id.
    #[schemars(range(min = 1000))]
    pub per_user_base: u32,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum IdentityMode {
    /// One uid per user, computed by the hub.
    PerUser,
    /// The same uid for every user.
    Fixed,
    /// Whatever the image's USER is (may be root).
    ImageDefault,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Capabilities {
    DropAll,
    RuntimeDefault,
}

/// A seccomp or AppArmor profile.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Profile {
    RuntimeDefault,
    /// A profile installed on the nodes (seccomp: path under the kubelet's
    /// seccomp root; AppArmor: profile name).
    Localhost(#[schemars(extend("format" = "profile-name"))] String),
    Unset,
}

// ---------------------------------------------------------------- chart pods

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChartPods {
    /// Security contexts of the chart's own pods (hub, proxy, autohttps, scheduler, pullers).
    pub hardening: ChartHardening,
    /// Resource requests and limits on the chart's own pods.
    pub resources: ChartResources,
    /// Mount the image's file system read-only in every chart container
    /// (`readOnlyRootFilesystem: true`); the hub, which needs a temporary
    /// directory, gets an emptyDir at `/tmp`.
    #[serde(default)]
    pub read_only_root_filesystem: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ChartHardening {
    Restricted,
    ChartDefault,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ChartResources {
    Limited,
    ChartDefault,
}

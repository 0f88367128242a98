//! The policy language: the typed form of a `HubPolicy` after presets are merged.
//!
//! Every type here derives `JsonSchema`; `z2jh-policy schema` prints that
//! schema and the validator checks files against it, so the language is
//! defined in exactly one place. String fields that need deep checks carry a
//! custom `format` (see `validate::formats`), which is enforced in the same
//! pass as type errors so that one run reports every problem.

use indexmap::IndexMap;
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
    /// Oldest Kubernetes minor version the cluster runs, e.g. `1.30`.
    #[schemars(extend("format" = "kubernetes-version"))]
    pub kubernetes_version: String,
    pub spec: Spec,
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
    pub internal_tls: InternalTls,
    pub network_policy: NetworkPolicies,
    pub egress: Egress,
    pub bandwidth: Bandwidth,
    pub resources: Resources,
    pub quota: Quota,
    pub pids: Pids,
    pub images: Images,
}

// ---------------------------------------------------------------- API access

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiAccess {
    /// Kubernetes API access for user pods.
    pub mode: ApiAccessMode,
    /// Mount a service-account token into the proxy pod (the chart does by default;
    /// the proxy never uses it).
    pub proxy_token: bool,
    /// Settings for `mode: pod-creator`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_creator: Option<PodCreator>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ApiAccessMode {
    /// No token in user pods.
    None,
    /// Users may create pods (e.g. Dask) in a separate workload namespace.
    PodCreator,
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

// ---------------------------------------------------------------- storage

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Storage {
    #[serde(rename = "type")]
    pub kind: StorageType,
    /// Size of each user's home volume (Kubernetes quantity, e.g. `10Gi`).
    #[schemars(extend("format" = "quantity"))]
    pub capacity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<BlockStorage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nfs: Option<NfsStorage>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum StorageType {
    /// No persistent home: everything is lost when the server stops.
    None,
    /// One block volume (PVC) per user.
    Block,
    /// Homes on an NFS server.
    Nfs,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BlockStorage {
    /// A StorageClass to emit; omit to use the cluster's default class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<StorageClassSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StorageClassSpec {
    #[schemars(extend("format" = "k8s-subdomain"))]
    pub name: String,
    /// CSI driver, e.g. `ebs.csi.aws.com`, `pd.csi.storage.gke.io`, `disk.csi.azure.com`.
    #[schemars(extend("format" = "provisioner"))]
    pub provisioner: String,
    #[serde(default)]
    pub parameters: IndexMap<String, String>,
    pub reclaim_policy: ReclaimPolicy,
    pub allow_volume_expansion: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum ReclaimPolicy {
    Retain,
    Delete,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NfsStorage {
    pub isolation: NfsIsolation,
    /// `per-user-volume`: the StorageClass to emit for the NFS subdir provisioner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<NfsStorageClass>,
    /// `shared-subpath`: the NFS server (hostname or IPv4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "host"))]
    pub server: Option<String>,
    /// `shared-subpath`: the exported directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "abs-path"))]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum NfsIsolation {
    /// One NFS volume (directory) per user through a provisioner.
    PerUserVolume,
    /// One shared volume; each user mounts a `subPath`.
    SharedSubpath,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NfsStorageClass {
    #[schemars(extend("format" = "k8s-subdomain"))]
    pub name: String,
    /// The provisioner's PROVISIONER_NAME.
    #[schemars(extend("format" = "provisioner"))]
    pub provisioner: String,
    /// What happens to a user's directory when the volume is deleted.
    pub on_delete: NfsOnDelete,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum NfsOnDelete {
    Retain,
    Archive,
    Delete,
}

// ---------------------------------------------------------------- HTTPS

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Https {
    pub mode: HttpsMode,
    /// Public host names of the hub.
    #[serde(default)]
    pub hosts: Vec<Host>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub letsencrypt: Option<Letsencrypt>,
    /// `mode: secret`: an existing `kubernetes.io/tls` Secret in the hub namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "k8s-subdomain"))]
    pub secret_name: Option<String>,
    /// `mode: manual`: PEM files, relative to the policy file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<ManualTls>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum HttpsMode {
    Letsencrypt,
    Secret,
    Manual,
    /// TLS ends at a cloud load balancer in front of the proxy.
    Offload,
    /// Plain HTTP from the proxy; only behind something else that terminates TLS.
    Disabled,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Letsencrypt {
    #[schemars(extend("format" = "email"))]
    pub contact_email: String,
    /// ACME directory; omit for Let's Encrypt production.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "https-url"))]
    pub acme_server: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ManualTls {
    #[schemars(extend("format" = "rel-path"))]
    pub cert_file: String,
    #[schemars(extend("format" = "rel-path"))]
    pub key_file: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum InternalTls {
    NotRequired,
    /// TLS between hub, proxy and user servers. The chart cannot do this.
    Required,
}

// ---------------------------------------------------------------- network

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkPolicies {
    pub hub: bool,
    pub proxy: bool,
    pub autohttps: bool,
    pub singleuser: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Egress {
    /// What user pods may reach outside the hub.
    pub profile: EgressProfile,
    /// Extra destinations, added on top of the profile.
    #[serde(default)]
    pub allow: Vec<EgressRule>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum EgressProfile {
    None,
    DnsOnly,
    HttpHttps,
    Internet,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EgressRule {
    pub cidr: Cidr,
    /// Addresses inside `cidr` that stay blocked.
    #[serde(default)]
    pub except: Vec<Cidr>,
    /// Ports (TCP unless `protocol` says otherwise); empty means all ports.
    #[serde(default)]
    pub ports: Vec<PortRule>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PortRule {
    pub port: Port,
    #[serde(default)]
    pub protocol: Protocol,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum Protocol {
    #[default]
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
    #[serde(rename = "SCTP")]
    Sctp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// A CIDR block such as `10.0.0.0/8`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(transparent)]
pub struct Cidr(#[schemars(extend("format" = "cidr"))] pub String);

/// A TCP/UDP port number.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(transparent)]
pub struct Port(#[schemars(range(min = 1, max = 65535))] pub u16);

/// A DNS host name.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(transparent)]
pub struct Host(#[schemars(extend("format" = "hostname"))] pub String);

// ---------------------------------------------------------------- limits

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

//! Home storage, HTTPS and internal TLS.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Host;

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
    /// Provisioner-specific settings, e.g. `type: gp3`. Keys are names like
    /// `csi.storage.k8s.io/fstype`; values are any text.
    #[serde(default)]
    #[schemars(extend("propertyNames" = {"format": "parameter-key"}))]
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
    /// `shared-subpath`: an existing PersistentVolumeClaim in the hub
    /// namespace that holds every home, instead of `server` and `path`
    /// (nothing is emitted for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "k8s-subdomain"))]
    pub existing_claim: Option<String>,
    /// `shared-subpath`: each user's directory on the volume, a KubeSpawner
    /// template such as `home/{username}`; default `{username}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "sub-path"))]
    pub sub_path: Option<String>,
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
    /// `mode: secret`: an existing `kubernetes.io/tls` Secret in the hub namespace;
    /// `mode: ingress`: the Secret the Ingress serves (made by cert-manager or by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "k8s-subdomain"))]
    pub secret_name: Option<String>,
    /// `mode: manual`: PEM files, relative to the policy file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<ManualTls>,
    /// `mode: ingress`: the Ingress the chart creates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressTls>,
    /// `mode: gateway`: the Gateway the chart's HTTPRoute attaches to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayRef>,
}

/// A Gateway (Gateway API) and, optionally, one of its listeners.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayRef {
    #[schemars(extend("format" = "k8s-subdomain"))]
    pub name: String,
    /// The Gateway's namespace; omit for the hub's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "k8s-name"))]
    pub namespace: Option<String>,
    /// The listener (`sectionName`) to attach to, e.g. `https`; omit to
    /// attach to every listener that accepts the hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "k8s-subdomain"))]
    pub section_name: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum HttpsMode {
    Letsencrypt,
    Secret,
    Manual,
    /// TLS ends at an Ingress the chart creates; the proxy is not exposed.
    Ingress,
    /// TLS ends at a Gateway (Gateway API) listener; the chart's HTTPRoute
    /// (chart 4.3.0 and later) sends the hosts to the proxy.
    Gateway,
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

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressTls {
    /// The IngressClass, e.g. `nginx`; omit for the cluster's default class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "k8s-subdomain"))]
    pub class_name: Option<String>,
    /// Annotations of the Ingress, e.g. `cert-manager.io/cluster-issuer: letsencrypt`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(extend("propertyNames" = {"format": "qualified-name"}))]
    pub annotations: IndexMap<String, String>,
}

/// `spec.internalTls`: a plain word, or a service mesh that encrypts pod
/// traffic for the chart (`{mode: mesh, mesh: istio}`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(untagged)]
pub enum InternalTls {
    Plain(InternalTlsMode),
    Mesh(MeshTls),
}

impl InternalTls {
    /// The mesh, when the policy asks for one.
    pub fn mesh(&self) -> Option<&MeshTls> {
        match self {
            InternalTls::Mesh(m) => Some(m),
            InternalTls::Plain(_) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum InternalTlsMode {
    NotRequired,
    /// TLS between hub, proxy and user servers from the chart itself. The chart cannot do this.
    Required,
}

/// Mutual TLS between every pod of the hub, from a service mesh's sidecars.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MeshTls {
    pub mode: MeshMode,
    pub mesh: Mesh,
    /// The mesh's CNI plugin (istio-cni, linkerd-cni) redirects pod traffic. Without it every
    /// meshed pod gets an init container with NET_ADMIN and NET_RAW, which only the
    /// `privileged` Pod Security level admits.
    #[serde(default)]
    pub cni: bool,
    /// Istio revision: label the namespace `istio.io/rev: <revision>` instead of
    /// `istio-injection: enabled`. Istio only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "k8s-name"))]
    pub revision: Option<String>,
    /// Namespace of the mesh's control plane; `istio-system` or `linkerd` when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "k8s-name"))]
    pub control_plane_namespace: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum MeshMode {
    Mesh,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Mesh {
    Istio,
    Linkerd,
}

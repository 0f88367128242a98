//! How the hub's public Service is published, and where credentials live.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Cidr;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Exposure {
    /// The type of the `proxy-public` Service. `auto` follows `https.mode`:
    /// `cluster-ip` behind an Ingress (`ingress`), else `load-balancer`.
    pub service: ServiceExposure,
    /// Client address ranges a `load-balancer` accepts
    /// (`proxy.service.loadBalancerSourceRanges`); empty means everyone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_ranges: Vec<Cidr>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceExposure {
    Auto,
    /// Reachable only inside the cluster (through an Ingress, a Gateway or a tunnel).
    ClusterIp,
    /// A cloud load balancer; `sourceRanges` limits who may connect.
    LoadBalancer,
    /// A port on every node's addresses.
    NodePort,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    /// Whether credentials may be written into Helm values.
    pub mode: SecretsMode,
    /// An existing Secret in the hub namespace that holds the hub's
    /// credentials in the layout of the chart's own `hub` Secret; compiled to
    /// `hub.existingSecret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "k8s-subdomain"))]
    pub existing_secret: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SecretsMode {
    /// No credential in values: the chart generates its own, the rest come
    /// from Secrets (`hub.existingSecret`, `valueFrom.secretKeyRef`).
    ReferencesOnly,
    /// Credentials may be written into values files.
    LiteralsAllowed,
}

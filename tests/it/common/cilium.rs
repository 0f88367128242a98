//! The part of Cilium's `cilium.io/v2` CiliumNetworkPolicy that the compiler
//! emits, as typed objects (field names and types of Cilium's
//! `pkg/policy/api`: `Rule`, `EgressRule`, `FQDNSelector`, `PortRule`,
//! `PortProtocol`, `PortRuleDNS`). Unknown fields are refused, so a manifest
//! that round-trips unchanged uses only fields Cilium defines. Kubernetes'
//! API types cannot check it: it is a custom resource.
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CiliumNetworkPolicy {
    api_version: ApiVersion,
    kind: Kind,
    metadata: Metadata,
    spec: Rule,
}

#[derive(Serialize, Deserialize)]
enum ApiVersion {
    #[serde(rename = "cilium.io/v2")]
    V2,
}

#[derive(Serialize, Deserialize)]
enum Kind {
    CiliumNetworkPolicy,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    name: String,
    namespace: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Rule {
    endpoint_selector: Selector,
    egress: Vec<EgressRule>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Selector {
    match_labels: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EgressRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to_endpoints: Option<Vec<Selector>>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "toFQDNs")]
    to_fqdns: Option<Vec<FqdnSelector>>,
    to_ports: Vec<PortRule>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FqdnSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    match_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    match_pattern: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PortRule {
    ports: Vec<PortProtocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rules: Option<L7Rules>,
}

/// Cilium's port is a string (a number, or a named port).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PortProtocol {
    port: String,
    protocol: Protocol,
}

#[derive(Serialize, Deserialize)]
enum Protocol {
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
    #[serde(rename = "SCTP")]
    Sctp,
    #[serde(rename = "ANY")]
    Any,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct L7Rules {
    dns: Vec<FqdnSelector>,
}

//! NetworkPolicies and egress.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// Host names user pods may reach on top of the profile, enforced by
    /// Cilium (`toFQDNs`); needs `networkPlugin: cilium`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_hosts: Vec<HostRule>,
}

/// A host name, or a pattern of names, user pods may reach. Give exactly
/// one of `name` and `pattern`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HostRule {
    /// One host name, e.g. `pypi.org` (Cilium `matchName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<HostName>,
    /// `*.` followed by a domain of at least two labels, e.g.
    /// `*.githubusercontent.com`: every name one label below it, not the
    /// domain itself (Cilium `matchPattern`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<HostPattern>,
    /// TCP ports (or `{port, protocol}`); defaults to 443 (HTTPS), which
    /// package indexes and git hosts serve on.
    #[serde(default = "https_only")]
    pub ports: Vec<PortRule>,
}

fn https_only() -> Vec<PortRule> {
    vec![PortRule {
        port: Port(443),
        protocol: Protocol::Tcp,
    }]
}

impl HostRule {
    /// The name or pattern, as written.
    pub fn text(&self) -> &str {
        match (&self.name, &self.pattern) {
            (Some(n), _) => &n.0,
            (None, Some(p)) => &p.0,
            (None, None) => "",
        }
    }
}

/// A fully qualified host name (not an IP address), as Cilium's `matchName`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(transparent)]
pub struct HostName(#[schemars(extend("format" = "fqdn-name"))] pub String);

/// `*.` and a domain: every name one label below the domain.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(transparent)]
pub struct HostPattern(#[schemars(extend("format" = "fqdn-pattern"))] pub String);

/// The cluster's network plugin (CNI): which policy kinds it enforces.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkPlugin {
    /// Cilium: Kubernetes NetworkPolicies plus CiliumNetworkPolicies
    /// (egress by host name).
    Cilium,
    Calico,
    /// Another plugin that enforces Kubernetes NetworkPolicies.
    Other,
    /// Not stated: only Kubernetes NetworkPolicies are assumed.
    #[default]
    Unknown,
}

impl NetworkPlugin {
    pub fn is_unknown(&self) -> bool {
        *self == NetworkPlugin::Unknown
    }
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

/// An IPv4 or IPv6 CIDR block such as `10.0.0.0/8` or `2001:db8::/32`.
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

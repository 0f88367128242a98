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

//! What browsers are told to keep apart: users' servers from the hub and
//! from each other.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Browser {
    /// Where users' servers are served from: `per-user` gives each user a
    /// host of their own under the hub's (`alice.hub.example.org`,
    /// `JupyterHub.subdomain_host`); `shared` serves every server under the
    /// hub's own host (`hub.example.org/user/alice`).
    pub origin: UserOrigin,
    /// The `__Host-` prefix on JupyterHub's cookies
    /// (`JupyterHub.cookie_host_prefix_enabled`). `auto`: prefixed with a
    /// per-user origin, plain with a shared one.
    pub cookies: CookiePrefix,
    /// Strict-Transport-Security on the hub's HTTPS endpoint.
    pub hsts: Hsts,
    /// Pages allowed to embed the hub and users' servers in a frame
    /// (`frame-ancestors`): `self` or `https://host[:port]` origins; empty
    /// means none (JupyterHub's default since 4.1).
    #[serde(default)]
    pub frame_ancestors: Vec<FrameAncestor>,
    /// Whether users' servers accept an API token in the URL (`?token=`),
    /// which starts a session from a shared link.
    pub url_tokens: UrlTokens,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum UserOrigin {
    /// Each user's server on a host of its own (needs a wildcard DNS record
    /// and a wildcard certificate).
    PerUser,
    /// Every server under the hub's host.
    Shared,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum CookiePrefix {
    Auto,
    /// `__Host-` cookies: bound to the exact host, over HTTPS only.
    HostPrefixed,
    /// JupyterHub's plain cookie names.
    Plain,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Hsts {
    /// Seconds browsers keep to HTTPS after a visit; `0` sends no header.
    /// Omitted: the chart's default (about six months from autohttps with
    /// `letsencrypt`, no header in the other HTTPS modes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u32>,
    /// Cover every host under the hub's (users' own hosts with a per-user
    /// origin).
    #[serde(default)]
    pub include_subdomains: bool,
    /// Ask to be listed in browsers' preload lists (needs
    /// `includeSubdomains` and a max age of a year or more).
    #[serde(default)]
    pub preload: bool,
}

/// `self`, or an `https://` origin (host and optional port, no path).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(transparent)]
pub struct FrameAncestor(#[schemars(extend("format" = "frame-ancestor"))] pub String);

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum UrlTokens {
    /// What the JupyterHub in the chart's default user image does: allowed
    /// before JupyterHub 5 (chart 3.x), refused from 5 (chart 4.x).
    ChartDefault,
    /// `?token=` is ignored by users' servers (except on websockets).
    Refused,
    /// A link with a token logs its holder in.
    Allowed,
}

//! Who may log in to the hub, and how far roles and services reach.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Access {
    /// Which users the hub admits: only those `users` and `groups` name
    /// (`listed`), everyone the authenticator accepts (`open`, compiled to
    /// `Authenticator.allow_all: true`), or whoever the values let in
    /// (`anyone`: nothing is required, the chart's default).
    pub allow: AllowMode,
    /// User names admitted (`hub.config.Authenticator.allowed_users`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<HubName>,
    /// Groups whose members are admitted
    /// (`hub.config.Authenticator.allowed_groups`); read only by
    /// authenticators that know groups (PAM, LDAP, GenericOAuthenticator,
    /// every OAuthenticator from 17, which also needs `manage_groups: true`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<HubName>,
    /// The hub's administrators (`hub.config.Authenticator.admin_users`);
    /// `[]` means none. Left out, the values decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admins: Option<Vec<HubName>>,
    /// Whether roles (`hub.loadRoles`) and services (`hub.services`) may
    /// hold broad scopes (`admin:users`, `admin:servers`, unfiltered
    /// `access:servers`, `admin-ui`, `tokens`, `inherit`, the `admin` role).
    pub roles: RolesMode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct HubName(#[schemars(extend("format" = "hub-name"))] pub String);

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum AllowMode {
    /// Only the users and groups listed.
    Listed,
    /// Every user the authenticator accepts.
    Open,
    /// No requirement at all: the allow configuration and the authenticator
    /// are left as the values have them (the chart's `dummy` admits any
    /// name without a password).
    Anyone,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RolesMode {
    /// Broad scopes only for named admins; services and groups get filtered
    /// or narrow scopes.
    LeastPrivilege,
    /// Roles and services may hold broad scopes.
    Broad,
}

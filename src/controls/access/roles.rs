//! Least privilege for the hub's roles (`hub.loadRoles`) and services
//! (`hub.services`): a service token or a group that holds `admin:users`
//! or unfiltered `access:servers` is every user's account and server.

use serde_json::Value;

use super::super::{Control, ControlDef, Judgement, ReadBack, Setting, ValuesView};
use crate::controls::lowering::Lowering;
use crate::effective::Origin;
use crate::effective::python;
use crate::plan::Selected;
use crate::policy::{Policy, RolesMode};

pub struct HubRoles;

pub(crate) mod breadth {
    use super::Setting;

    pub static LEAST_PRIVILEGE: Setting = Setting {
        name: "least-privilege",
        rank: 0,
        summary: "broad scopes only for named admins; services and groups hold filtered or narrow scopes",
    };
    pub static BROAD: Setting = Setting {
        name: "broad",
        rank: 1,
        summary: "services, groups or users beyond the admins may hold `admin:users`, `admin:servers`, unfiltered `access:servers`, `tokens` or every scope",
    };
}

static DEF: ControlDef = ControlDef {
    id: "hub-roles",
    title: "Least privilege for hub roles and services",
    field: "/spec/access/roles",
    rationale: "JupyterHub's roles decide what a token may do. A service or group holding `admin:users`, `admin:servers`, \
        unfiltered `access:servers`, `tokens` or every scope (`inherit`, the `admin` role, a service's deprecated `admin: true`) \
        can act as any user and reach every server: one leaked service token is the whole hub. Filtered scopes \
        (`access:servers!user=alice`) and narrow ones (`read:users:activity`) give each what it needs. The price: each \
        service's scopes must be worked out and kept up to date.",
    settings: &[&breadth::LEAST_PRIVILEGE, &breadth::BROAD],
    // `hub.services` is read too, but never cited as a whole (it holds
    // service tokens): findings name `hub.services.<name>.admin`.
    values_keys: &[
        "hub.loadRoles",
        "hub.config.JupyterHub.load_roles",
        "hub.config.Authenticator.admin_users",
        "cull.users",
    ],
    read_only_keys: &[
        "hub.loadRoles",
        "hub.config.JupyterHub.load_roles",
        "hub.config.Authenticator.admin_users",
        "cull.users",
    ],
    spawner_traits: &[],
};

/// Scopes that reach every user or server, or mint tokens.
const BROAD: &[&str] = &[
    "admin:users",
    "admin:servers",
    "access:servers",
    "admin-ui",
    "tokens",
    "admin:auth_state",
    "admin:groups",
];

/// The broad part of a scope: unfiltered and in [`BROAD`], or `inherit`.
fn broad(scope: &str) -> bool {
    scope == "inherit" || (!scope.contains('!') && BROAD.contains(&scope))
}

fn strs(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// One grant beyond least privilege, with the values key that makes it.
struct Grant {
    what: String,
    path: Vec<String>,
}

fn grants(values: &Value) -> Vec<Grant> {
    let admins: Vec<&str> = strs(crate::values::get(
        values,
        &["hub", "config", "Authenticator", "admin_users"],
    ));
    let mut roles: Vec<(String, &Value, Vec<String>)> = Vec::new();
    if let Some(m) = crate::values::get(values, &["hub", "loadRoles"]).and_then(Value::as_object) {
        for (key, role) in m {
            let name = role.get("name").and_then(Value::as_str).unwrap_or(key);
            roles.push((
                name.to_string(),
                role,
                vec!["hub".into(), "loadRoles".into(), key.clone()],
            ));
        }
    }
    if let Some(a) = crate::values::get(values, &["hub", "config", "JupyterHub", "load_roles"])
        .and_then(Value::as_array)
    {
        for (i, role) in a.iter().enumerate() {
            let name = role.get("name").and_then(Value::as_str).unwrap_or("");
            let path = ["hub", "config", "JupyterHub", "load_roles", &i.to_string()];
            roles.push((
                name.to_string(),
                role,
                path.iter().map(|s| s.to_string()).collect(),
            ));
        }
    }
    let mut out = Vec::new();
    for (name, role, path) in roles {
        let scopes: Vec<String> = if name == "admin" {
            vec!["every scope (the `admin` role)".into()]
        } else {
            strs(role.get("scopes"))
                .into_iter()
                .filter(|s| broad(s))
                .map(|s| format!("`{s}`"))
                .collect()
        };
        if scopes.is_empty() {
            continue;
        }
        let mut holders: Vec<String> = Vec::new();
        holders.extend(
            strs(role.get("services"))
                .iter()
                .map(|s| format!("service `{s}`")),
        );
        holders.extend(
            strs(role.get("groups"))
                .iter()
                .map(|g| format!("group `{g}`")),
        );
        holders.extend(
            strs(role.get("users"))
                .iter()
                .filter(|u| !admins.contains(u))
                .map(|u| format!("user `{u}`")),
        );
        if holders.is_empty() {
            continue;
        }
        let mut at = path;
        at.push("scopes".into());
        out.push(Grant {
            what: format!(
                "role `{name}` grants {} to {}",
                scopes.join(", "),
                holders.join(", ")
            ),
            path: at,
        });
    }
    if let Some(m) = crate::values::get(values, &["hub", "services"]).and_then(Value::as_object) {
        for (key, s) in m {
            if s.get("admin").and_then(Value::as_bool) == Some(true) {
                out.push(Grant {
                    what: format!(
                        "service `{key}` has `admin: true` (deprecated since JupyterHub 2.0: it gets the full `admin` role)"
                    ),
                    path: vec!["hub".into(), "services".into(), key.clone(), "admin".into()],
                });
            }
        }
    }
    // The chart's own culler role gains `admin:users` to delete users.
    if crate::values::get_bool(values, &["cull", "enabled"]) == Some(true)
        && crate::values::get_bool(values, &["cull", "users"]) == Some(true)
    {
        out.push(Grant {
            what: "`cull.users: true` gives the `jupyterhub-idle-culler` service `admin:users`"
                .into(),
            path: vec!["cull".into(), "users".into()],
        });
    }
    out
}

impl Control for HubRoles {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn admission_gap(&self) -> Option<&'static str> {
        Some("hub roles and services are the hub's configuration, not a pod's")
    }
    fn selected(&self, p: &Policy) -> Selected {
        match p.spec.access.roles {
            RolesMode::LeastPrivilege => breadth::LEAST_PRIVILEGE.selected(),
            RolesMode::Broad => breadth::BROAD.selected(),
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        match p.spec.access.roles {
            RolesMode::LeastPrivilege => cx.note(
                DEF.field,
                "give roles in `hub.loadRoles` only the scopes they need, filtered where they reach users or servers \
                 (`access:servers!user=alice`, `admin:servers!group=physics`), and leave `admin: true` off `hub.services`; \
                 `check` and `audit` report every broad grant",
            ),
            RolesMode::Broad => cx.warn(
                DEF.field,
                "roles and services may hold broad scopes: whoever holds such a service's token or joins such a group can act as \
                 any user and reach every server",
                "set `access.roles: least-privilege` and grant filtered scopes",
            ),
        }
    }
    fn judge(&self, v: &ValuesView) -> Judgement {
        let found = grants(v.values);
        let python = crate::effective::spawner::hub_python(v.values)
            .into_iter()
            .flat_map(|(path, code)| {
                python::lines_where(&path, code, |t| {
                    t.contains("load_roles") || t.contains("JupyterHub.services")
                })
            })
            .next()
            .map(Origin::Python);
        let Some(first) = found.first() else {
            if let Some(origin) = python {
                return Judgement {
                    read_back: ReadBack::CannotVerify {
                        reason: format!(
                            "the hub's Python changes roles or services: {}",
                            origin.describe()
                        ),
                    },
                    by: Some(origin),
                    unverified: None,
                    exposes: false,
                };
            }
            return Judgement::plain(ReadBack::Setting(breadth::LEAST_PRIVILEGE.selected()));
        };
        let what: Vec<&str> = found.iter().map(|g| g.what.as_str()).collect();
        Judgement {
            read_back: ReadBack::Setting(breadth::BROAD.with(what.join("; "))),
            by: Some(Origin::values(&first.path)),
            unverified: python.map(|o| ("the hub's Python changes roles or services".into(), o)),
            // Such a token or group reaches every user's account and server.
            exposes: true,
        }
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        match super::super::read_setting(self, v) {
            Some(s) if s.is(&breadth::BROAD) => {
                p.spec.access.roles = RolesMode::Broad;
                vec![format!(
                    "broad grants in the values ({}): the proposal allows them; narrow the scopes, then set `access.roles: least-privilege`",
                    s.detail.unwrap_or_default()
                )]
            }
            Some(_) => {
                p.spec.access.roles = RolesMode::LeastPrivilege;
                Vec::new()
            }
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn found(v: Value) -> Vec<String> {
        grants(&v).into_iter().map(|g| g.what).collect()
    }

    #[test]
    fn broad_grants_beyond_admins_are_found() {
        let v = json!({
            "hub": {
                "config": {"Authenticator": {"admin_users": ["carol"]}},
                "loadRoles": {
                    "ops": {"scopes": ["admin:users", "read:users"], "users": ["carol"]},
                    "grader": {"scopes": ["access:servers!group=course", "list:users"], "services": ["grader"]},
                    "monitor": {"scopes": ["access:servers", "read:metrics"], "services": ["monitor"]},
                    "teachers": {"scopes": ["inherit"], "groups": ["teachers"]},
                    "admin": {"users": ["dave"]},
                },
                "services": {"old": {"admin": true, "apiToken": "sekrit"}, "ok": {"admin": false}},
            },
            "cull": {"enabled": true, "users": true},
        });
        assert_eq!(
            found(v),
            [
                "role `monitor` grants `access:servers` to service `monitor`",
                "role `teachers` grants `inherit` to group `teachers`",
                "role `admin` grants every scope (the `admin` role) to user `dave`",
                "service `old` has `admin: true` (deprecated since JupyterHub 2.0: it gets the full `admin` role)",
                "`cull.users: true` gives the `jupyterhub-idle-culler` service `admin:users`",
            ]
        );
    }

    #[test]
    fn chart_defaults_are_least_privilege() {
        for r in crate::chart::releases::all() {
            assert!(grants(&r.defaults()).is_empty(), "{}", r.version);
        }
    }
}

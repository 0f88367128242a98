//! Who may log in, and how far the hub's roles and services reach.
//!
//! The chart hands `hub.config` to traitlets, so `hub.config.Authenticator.*`
//! configures whichever authenticator `hub.config.JupyterHub.authenticator_class`
//! names (its own section, e.g. `GitHubOAuthenticator`, wins). What an empty
//! allow configuration means depends on the JupyterHub the chart pins:
//! chart 3.x ships JupyterHub 4.x (every authenticated user is admitted when
//! `allowed_users` is empty) with OAuthenticator 16 (nobody without allow
//! configuration); chart 4.x ships JupyterHub 5.x, where `allow_all` is a
//! base trait that defaults to false (true for the `dummy` authenticator).

mod read;
mod roles;

use serde_json::json;

use super::{Control, ControlDef, Judgement, ReadBack, Setting, ValuesView};
use crate::chart::ChartLine;
use crate::controls::lowering::Lowering;
use crate::plan::Selected;
use crate::policy::{AllowMode, HubName, Policy};

pub use roles::HubRoles;

pub struct AccessControl;

pub(crate) mod allow {
    use super::Setting;

    pub static LISTED: Setting = Setting {
        name: "listed",
        rank: 0,
        summary: "only the users and groups listed (`Authenticator.allowed_users`, `allowed_groups`) log in",
    };
    pub static OPEN: Setting = Setting {
        name: "open",
        rank: 1,
        summary: "every user the authenticator accepts logs in (`Authenticator.allow_all: true`)",
    };
    pub static ANYONE: Setting = Setting {
        name: "anyone",
        rank: 2,
        summary: "nothing is required: with the chart's `dummy` authenticator (no password) or `tmp`, any name logs in without a password",
    };
}

static DEF: ControlDef = ControlDef {
    id: "access",
    title: "Who may log in",
    field: "/spec/access/allow",
    rationale: "An authenticator proves who someone is; the allow list decides who of them may use the hub. Left empty, a \
        GitHub or Google login admits every account on the internet, and the chart's default `dummy` authenticator admits \
        every name with any password. What an empty list means changed with JupyterHub 5 (chart 4.x): stating the list and \
        `allow_all` keeps its meaning across upgrades. The price: each new user must be added (or come through a group).",
    settings: &[&allow::LISTED, &allow::OPEN, &allow::ANYONE],
    values_keys: &[
        "hub.config.Authenticator.allowed_users",
        "hub.config.Authenticator.allowed_groups",
        "hub.config.Authenticator.admin_users",
        "hub.config.Authenticator.allow_all",
        "hub.config.Authenticator.allow_existing_users",
        "hub.config.JupyterHub.authenticator_class",
    ],
    read_only_keys: &["hub.config.JupyterHub.authenticator_class"],
    spawner_traits: &[],
};

const PTR: &str = "/spec/access";

fn names(list: &[HubName]) -> Vec<&str> {
    list.iter().map(|n| n.0.as_str()).collect()
}

/// `hub.config.Authenticator.<name>`.
fn key(name: &str) -> [&str; 4] {
    ["hub", "config", "Authenticator", name]
}

fn setting(mode: AllowMode) -> &'static Setting {
    match mode {
        AllowMode::Listed => &allow::LISTED,
        AllowMode::Open => &allow::OPEN,
        AllowMode::Anyone => &allow::ANYONE,
    }
}

const MODES: [AllowMode; 3] = [AllowMode::Listed, AllowMode::Open, AllowMode::Anyone];

impl Control for AccessControl {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn admission_gap(&self) -> Option<&'static str> {
        Some("who may log in is the hub's authenticator configuration, not a pod's")
    }
    fn selected(&self, p: &Policy) -> Selected {
        setting(p.spec.access.allow).selected()
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let a = &p.spec.access;
        let (users, groups) = (names(&a.users), names(&a.groups));
        match a.allow {
            AllowMode::Listed => {
                if users.is_empty() && groups.is_empty() {
                    cx.error(
                        DEF.field,
                        "`access.allow: listed` needs `spec.access.users` or `spec.access.groups`",
                        "name who may log in, e.g. `users: [alice]` or `groups: [physics]`; `allow: open` admits everyone the authenticator accepts",
                    );
                    return;
                }
                lower_listed(&users, &groups, cx);
            }
            AllowMode::Open | AllowMode::Anyone => {
                if !users.is_empty() || !groups.is_empty() {
                    let field = if users.is_empty() { "groups" } else { "users" };
                    cx.warn(
                        &format!("{PTR}/{field}"),
                        "`access.users` and `access.groups` are not used: only `access.allow: listed` admits by list",
                        "remove them, or set `access.allow: listed`",
                    );
                }
                if a.allow == AllowMode::Open {
                    cx.set(&key("allow_all"), json!(true));
                    cx.warn(
                        DEF.field,
                        "every user the authenticator accepts may log in: with GitHub, Google or another public identity provider \
                         that is everyone with an account there, and with the chart's default `dummy` authenticator everyone, under \
                         any name and password",
                        "set `access.allow: listed` with `users` or `groups`",
                    );
                } else {
                    cx.warn(
                        DEF.field,
                        "the policy requires nothing of who logs in: the chart's default `dummy` authenticator admits every name \
                         without a password, so whoever reaches the hub runs code in it",
                        "configure an authenticator (`hub.config.JupyterHub.authenticator_class`) and set `access.allow: listed`",
                    );
                }
            }
        }
        if let Some(admins) = &a.admins {
            let admins = names(admins);
            cx.set_at(&format!("{PTR}/admins"), &key("admin_users"), json!(admins));
            if admins.is_empty() {
                cx.note(
                    &format!("{PTR}/admins"),
                    "the hub has no administrators (`admin_users: []`); roles in `hub.loadRoles` still grant what they list",
                );
            }
        }
    }
    fn judge(&self, v: &ValuesView) -> Judgement {
        read::judge(v)
    }
    fn parameters(&self, p: &Policy, v: &ValuesView) -> Vec<String> {
        let a = &p.spec.access;
        let mut out = Vec::new();
        if a.allow == AllowMode::Listed {
            for (field, trait_name, want) in [
                ("users", "allowed_users", names(&a.users)),
                ("groups", "allowed_groups", names(&a.groups)),
            ] {
                for got in crate::values::get_strs(v.values, &key(trait_name)) {
                    if !want.contains(&got) {
                        out.push(format!(
                            "`{got}` is in `Authenticator.{trait_name}` but not in `access.{field}`"
                        ));
                    }
                }
            }
        }
        if let Some(admins) = &a.admins {
            let want = names(admins);
            for got in crate::values::get_strs(v.values, &key("admin_users")) {
                if !want.contains(&got) {
                    out.push(format!(
                        "`{got}` is an administrator (`Authenticator.admin_users`) but not in `access.admins`"
                    ));
                }
            }
        }
        out
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        let valid = |path: &[&str]| -> Vec<HubName> {
            crate::values::get_strs(v.values, path)
                .into_iter()
                .filter(|n| crate::validate::formats::hub_name(n).is_ok())
                .map(|n| HubName(n.to_string()))
                .collect()
        };
        let a = &mut p.spec.access;
        a.users = valid(&key("allowed_users"));
        a.groups = valid(&key("allowed_groups"));
        let own_admins = v.get(&key("admin_users")).is_some()
            && v.get(&key("admin_users")) != crate::values::get(v.defaults, &key("admin_users"));
        a.admins = own_admins.then(|| valid(&key("admin_users")));
        let mut out = read::deprecated(v);
        // What decides, without the deprecated keys `judge` appends.
        let why = read::admits(v).0.detail.unwrap_or_default();
        a.allow = match super::value_of(&MODES, setting, &got) {
            Some(AllowMode::Listed) if a.users.is_empty() && a.groups.is_empty() => {
                // Admins are admitted anyway: listing them widens nothing.
                match a.admins.clone().filter(|x| !x.is_empty()) {
                    Some(admins) => {
                        out.push(format!(
                            "the values admit users through the authenticator's own configuration ({why}), which the policy \
                             language does not state: the proposal lists the admins in `access.users` so that it says `listed`; \
                             keep that configuration in your values"
                        ));
                        a.users = admins;
                        AllowMode::Listed
                    }
                    None => {
                        out.push(format!(
                            "the values admit users through the authenticator's own configuration ({why}), which the policy \
                             language does not state: the proposal says `open`, which compiles to `allow_all: true` and admits \
                             everyone the authenticator accepts; list users or groups in `access.users` / `access.groups` first"
                        ));
                        AllowMode::Open
                    }
                }
            }
            Some(AllowMode::Anyone) => {
                out.push(format!(
                    "anyone may log in ({why}): the proposal says `anyone`; configure an authenticator that checks credentials \
                     and set `access.allow: listed`"
                ));
                AllowMode::Anyone
            }
            Some(m) => m,
            None => AllowMode::Anyone,
        };
        if a.allow != AllowMode::Listed {
            a.users.clear();
            a.groups.clear();
        }
        out
    }
}

fn lower_listed(users: &[&str], groups: &[&str], cx: &mut Lowering) {
    // Always written, `[]` included: an empty list of another values file
    // must not survive, and a list of one must not be extended.
    cx.set_at(&format!("{PTR}/users"), &key("allowed_users"), json!(users));
    if !groups.is_empty() {
        cx.set_at(
            &format!("{PTR}/groups"),
            &key("allowed_groups"),
            json!(groups),
        );
        cx.note(
            &format!("{PTR}/groups"),
            "`allowed_groups` is read only by authenticators that know groups: PAM and LDAP, GenericOAuthenticator and \
             OpenShiftOAuthenticator, and on chart 4.x (OAuthenticator 17) every OAuthenticator, which refuses to start unless \
             `manage_groups: true` is set in its section (with `auth_state_groups_key` naming the claim); GitHub organisations \
             and Google groups have their own lists (`allowed_organizations`, `allowed_google_groups`) in the authenticator's section",
        );
    }
    // The defaults an upgrade would change, stated: JupyterHub 5 turns
    // `allow_existing_users` on whenever `allowed_users` is set.
    cx.set(&key("allow_all"), json!(false));
    cx.set(&key("allow_existing_users"), json!(false));
    match cx.chart {
        ChartLine::V3 => {
            if users.is_empty() {
                cx.warn(
                    &format!("{PTR}/groups"),
                    "chart 3.x runs JupyterHub 4, which admits every authenticated user when `allowed_users` is empty unless the \
                     authenticator itself reads `allowed_groups`; with any other (the chart's `dummy`, GitHub, Google) this list admits everyone",
                    "add `access.users`, or make sure the authenticator reads `allowed_groups`",
                );
            }
            cx.note(
                DEF.field,
                "chart 3.x runs JupyterHub 4.x, whose base authenticator has no `allow_all` or `allow_existing_users` (OAuthenticator \
                 16 has both; other authenticators log them as not recognized) and keeps every user already in the hub database \
                 allowed: remove someone from `access.users` and from the hub (admin panel or `DELETE /hub/api/users/<name>`)",
            );
        }
        ChartLine::V4 => cx.note(
            DEF.field,
            "`allow_existing_users: false`: a user removed from `access.users` is refused at the next hub start, though still in \
             the hub database (JupyterHub 5 would keep them allowed)",
        ),
    }
    cx.note(
        DEF.field,
        "the allow list names who may log in; the authenticator proves it: set `hub.config.JupyterHub.authenticator_class` \
         to one that checks credentials (the chart's default `dummy` accepts any password for a listed name)",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_maps_back() {
        super::super::assert_every_setting_maps_back(&DEF, &MODES, setting);
    }
}

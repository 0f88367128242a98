//! Which users the configured authenticator admits, read from `hub.config`
//! by the rules of the JupyterHub and OAuthenticator the chart line pins.

use serde_json::Value;

use super::allow::{ANYONE, LISTED, OPEN};
use super::{DEF, Judgement, ReadBack, ValuesView};
use crate::chart::ChartLine;
use crate::effective::Origin;
use crate::effective::python::{self, PyLine};
use crate::plan::Selected;

/// How an authenticator decides who is admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `DummyAuthenticator`: any name, with the one password if set.
    Dummy,
    /// `SharedPasswordAuthenticator` (JupyterHub 5.3): any name, one password.
    SharedPassword,
    /// `NullAuthenticator`: no login page at all (API tokens only).
    Null,
    /// `TmpAuthenticator`: every visitor gets a new user.
    Tmp,
    /// An OAuthenticator class: nobody without allow configuration (16+).
    OAuth,
    /// PAM, LDAP and any other: JupyterHub's own rules.
    Other,
}

/// The authenticator the values configure: its class name (the config
/// section it reads) and the sections it reads, most general first.
struct Authenticator {
    class: String,
    kind: Kind,
    sections: Vec<String>,
}

/// Entry-point names the hub image's authenticators register.
const ALIASES: &[(&str, &str)] = &[
    ("dummy", "DummyAuthenticator"),
    ("null", "NullAuthenticator"),
    ("pam", "PAMAuthenticator"),
    ("default", "PAMAuthenticator"),
    ("shared-password", "SharedPasswordAuthenticator"),
    ("tmp", "TmpAuthenticator"),
    ("tmpauthenticator", "TmpAuthenticator"),
    ("ldap", "LDAPAuthenticator"),
    ("ldapauthenticator", "LDAPAuthenticator"),
    ("native", "NativeAuthenticator"),
    ("nativeauthenticator", "NativeAuthenticator"),
    ("firstuse", "FirstUseAuthenticator"),
    ("firstuseauthenticator", "FirstUseAuthenticator"),
    ("auth0", "Auth0OAuthenticator"),
    ("azuread", "AzureAdOAuthenticator"),
    ("bitbucket", "BitbucketOAuthenticator"),
    ("cilogon", "CILogonOAuthenticator"),
    ("generic-oauth", "GenericOAuthenticator"),
    ("github", "GitHubOAuthenticator"),
    ("gitlab", "GitLabOAuthenticator"),
    ("globus", "GlobusOAuthenticator"),
    ("google", "GoogleOAuthenticator"),
    ("mediawiki", "MWOAuthenticator"),
    ("openshift", "OpenShiftOAuthenticator"),
];

const CLASS_KEY: [&str; 4] = ["hub", "config", "JupyterHub", "authenticator_class"];

fn authenticator(values: &Value, defaults: &Value) -> Authenticator {
    // A missing key is the chart's default, `dummy` in every 3.x and 4.x
    // release (read-backs without chart defaults assume them).
    let raw = crate::values::get_str(values, &CLASS_KEY)
        .or_else(|| crate::values::get_str(defaults, &CLASS_KEY))
        .unwrap_or("dummy");
    let local = raw.strip_prefix("local-");
    let alias = local.unwrap_or(raw);
    let mut class = ALIASES
        .iter()
        .find(|(a, _)| *a == alias)
        .map(|(_, c)| c.to_string())
        .unwrap_or_else(|| raw.rsplit(['.', ':']).next().unwrap_or(raw).to_string());
    if local.is_some() {
        class = format!("Local{class}");
    }
    let base = class.strip_prefix("Local").unwrap_or(&class).to_string();
    let kind = match base.as_str() {
        "DummyAuthenticator" => Kind::Dummy,
        "SharedPasswordAuthenticator" => Kind::SharedPassword,
        "NullAuthenticator" => Kind::Null,
        "TmpAuthenticator" => Kind::Tmp,
        c if c.ends_with("OAuthenticator") => Kind::OAuth,
        _ => Kind::Other,
    };
    let mut sections = vec!["Authenticator".to_string()];
    if kind == Kind::OAuth {
        sections.push("OAuthenticator".into());
    }
    if class.starts_with("Local") || base == "PAMAuthenticator" {
        sections.push("LocalAuthenticator".into());
    }
    if base != class {
        sections.push(base);
    }
    if !sections.contains(&class) {
        sections.push(class.clone());
    }
    Authenticator {
        class,
        kind,
        sections,
    }
}

impl Authenticator {
    /// A trait as the authenticator sees it: its own section wins.
    fn get<'v>(&self, values: &'v Value, name: &str) -> Option<(&'v Value, Vec<String>)> {
        self.sections.iter().rev().find_map(|s| {
            crate::values::get(values, &["hub", "config", s, name])
                .filter(|v| !v.is_null())
                .map(|v| {
                    let path = ["hub", "config", s.as_str(), name];
                    (v, path.iter().map(|x| x.to_string()).collect())
                })
        })
    }

    /// Every allow list that holds something, as `(trait, path)`: the
    /// base lists and the class's own (`allowed_organizations`,
    /// `allowed_idps`, `hosted_domain`, …), deprecated spellings included.
    fn lists(&self, values: &Value) -> Vec<(String, Vec<String>)> {
        let mut names: Vec<String> = Vec::new();
        for s in &self.sections {
            if let Some(m) =
                crate::values::get(values, &["hub", "config", s]).and_then(Value::as_object)
            {
                for k in m.keys() {
                    let allow_list = k.starts_with("allowed_")
                        || matches!(
                            k.as_str(),
                            "whitelist" | "group_whitelist" | "hosted_domain"
                        );
                    if allow_list && !names.contains(k) {
                        names.push(k.clone());
                    }
                }
            }
        }
        // `dummy` and the shared password check only the user list.
        let users_only = matches!(self.kind, Kind::Dummy | Kind::SharedPassword);
        names
            .into_iter()
            .filter(|n| !users_only || matches!(n.as_str(), "allowed_users" | "whitelist"))
            .filter_map(|n| {
                let (v, path) = self.get(values, &n)?;
                filled(v).then_some((n, path))
            })
            .collect()
    }
}

fn filled(v: &Value) -> bool {
    match v {
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        Value::String(s) => !s.trim().is_empty(),
        _ => false,
    }
}

/// Who the values admit, and the key that decides it.
pub fn admits(v: &ValuesView) -> (Selected, Origin) {
    let values = v.values;
    let auth = authenticator(values, v.defaults);
    let class_origin = Origin::values(&CLASS_KEY);
    let lists = auth.lists(values);
    let list_names: Vec<String> = lists.iter().map(|(n, _)| format!("`{n}`")).collect();
    let list_origin = lists.first().map(|(_, p)| Origin::values(p));
    let users_listed = lists
        .iter()
        .any(|(n, _)| matches!(n.as_str(), "allowed_users" | "whitelist"));
    let explicit_all = auth.get(values, "allow_all");
    let allow_all = explicit_all.as_ref().and_then(|(v, _)| v.as_bool());
    let all_origin = explicit_all.map(|(_, p)| Origin::values(&p));
    let listed = |detail: String| {
        (
            LISTED.with(detail),
            list_origin.clone().unwrap_or(class_origin.clone()),
        )
    };
    let class = &auth.class;
    match auth.kind {
        Kind::Tmp => (
            ANYONE.with(format!(
                "`{class}`: every visitor gets a new user without logging in"
            )),
            class_origin,
        ),
        Kind::Null => (
            LISTED.with(format!("`{class}`: no login page, API tokens only")),
            class_origin,
        ),
        Kind::Dummy | Kind::SharedPassword => {
            let password = auth.kind == Kind::SharedPassword
                || auth.get(values, "password").is_some_and(|(v, _)| filled(v));
            // JupyterHub 4 admits all on an empty list; 5 gives `dummy`
            // `allow_all` unless a user list is set.
            let open = match v.chart {
                ChartLine::V3 => !users_listed,
                ChartLine::V4 => allow_all.unwrap_or(!users_listed),
            };
            let by = all_origin.clone().unwrap_or(class_origin.clone());
            match (open, password) {
                (true, false) => (
                    ANYONE.with(format!("`{class}` without a password: any name logs in")),
                    by,
                ),
                (true, true) => (
                    OPEN.with(format!(
                        "`{class}`: everyone with the shared password, under any name"
                    )),
                    by,
                ),
                (false, false) => listed(format!(
                    "{}; `{class}` checks no password: a listed name is all it takes",
                    list_names.join(", ")
                )),
                (false, true) => listed(list_names.join(", ")),
            }
        }
        Kind::OAuth => match allow_all {
            Some(true) => (
                OPEN.with(format!("`{class}` with `allow_all: true`")),
                all_origin.unwrap_or(class_origin),
            ),
            _ if lists.is_empty() => (
                LISTED.with(format!(
                    "`{class}` with no allow list: only `admin_users` log in"
                )),
                class_origin,
            ),
            _ => listed(list_names.join(", ")),
        },
        Kind::Other => match (v.chart, allow_all) {
            (ChartLine::V4, Some(true)) => (
                OPEN.with(format!("`{class}` with `allow_all: true`")),
                all_origin.unwrap_or(class_origin),
            ),
            (ChartLine::V3, _) if lists.is_empty() => (
                OPEN.with(format!(
                    "`{class}` with no allow list: JupyterHub 4 admits every authenticated user"
                )),
                class_origin,
            ),
            (_, _) if !lists.is_empty() => listed(list_names.join(", ")),
            (ChartLine::V4, _) => (
                LISTED.with(format!(
                    "`{class}` with no allow list: JupyterHub 5 admits only `admin_users`"
                )),
                class_origin,
            ),
            (ChartLine::V3, _) => listed(list_names.join(", ")),
        },
    }
}

/// Python statements that may change who is admitted: they name an
/// authenticator section or `authenticator_class` together with allow or
/// admin configuration (a client id alone does not count).
fn python_lines(values: &Value) -> Vec<PyLine> {
    crate::effective::spawner::hub_python(values)
        .into_iter()
        .flat_map(|(path, code)| {
            python::lines_where(&path, code, |t| {
                let names_auth = t.contains("Authenticator") || t.contains("authenticator_class");
                let allow = [
                    "allow",
                    "admin_users",
                    "authenticator_class",
                    "check_allowed",
                    "whitelist",
                ]
                .iter()
                .any(|w| t.contains(w))
                    || (t.contains("DummyAuthenticator") && t.contains("password"));
                (names_auth && allow) || t.contains("setattr(c") || t.contains("exec(")
            })
        })
        .collect()
}

/// Keys `hub.config` still accepts that do nothing, or nothing more than
/// their replacement, in the JupyterHub the chart pins; those the chart's
/// own defaults set are left out (the chart sets `admin_access: true`).
const DEPRECATED: &[(&str, &str, &str)] = &[
    (
        "JupyterHub",
        "admin_access",
        "no effect since JupyterHub 2.0: admins reach user servers through the `admin` role's scopes",
    ),
    (
        "Authenticator",
        "whitelist",
        "renamed `allowed_users` in JupyterHub 1.2",
    ),
    (
        "Authenticator",
        "blacklist",
        "renamed `blocked_users` in JupyterHub 1.2",
    ),
    (
        "Authenticator",
        "group_whitelist",
        "renamed `allowed_groups` in JupyterHub 1.2",
    ),
];

/// Deprecated keys the values set, each with what became of it.
pub fn deprecated(v: &ValuesView) -> Vec<String> {
    let mut out = Vec::new();
    for (section, name, why) in DEPRECATED {
        let path = ["hub", "config", section, name];
        let got = v.get(&path);
        if got.is_some_and(|g| !g.is_null()) && got != crate::values::get(v.defaults, &path) {
            out.push(format!(
                "`hub.config.{section}.{name}` is deprecated: {why}"
            ));
        }
    }
    out
}

pub fn judge(v: &ValuesView) -> Judgement {
    let (mut got, by) = admits(v);
    let old = deprecated(v);
    if !old.is_empty() {
        let d = got
            .detail
            .take()
            .map(|d| format!("{d}; "))
            .unwrap_or_default();
        got.detail = Some(format!("{d}{}", old.join("; ")));
    }
    // Admitting more than a list hands the hub, and code execution in it,
    // to everyone who can log in: high whatever the rank gap.
    let exposes = !DEF.is_strongest(got.setting);
    let mut j = Judgement {
        read_back: ReadBack::Setting(got.clone()),
        by: Some(by),
        unverified: None,
        exposes,
    };
    if let Some(line) = python_lines(v.values).into_iter().next() {
        let origin = Origin::Python(line);
        let reason = "the hub's Python changes the authenticator's allow configuration".to_string();
        if DEF.is_strongest(got.setting) {
            j.read_back = ReadBack::CannotVerify {
                reason: format!("{reason}: {}", origin.describe()),
            };
            j.by = Some(origin);
        } else {
            j.unverified = Some((reason, origin));
        }
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(values: Value, line: ChartLine) -> ReadBack {
        let view = ValuesView {
            values: &values,
            defaults: &Value::Null,
            manifests: None,
            chart: line,
            more: Default::default(),
        };
        judge(&view).read_back
    }

    fn name(r: &ReadBack) -> &str {
        match r {
            ReadBack::Setting(s) => s.setting.name,
            ReadBack::CannotVerify { .. } => "cannot-verify",
        }
    }

    #[test]
    fn every_release_defaults_to_dummy() {
        for r in crate::chart::releases::all() {
            let d = r.defaults();
            assert_eq!(
                crate::values::get_str(&d, &CLASS_KEY),
                Some("dummy"),
                "{}",
                r.version
            );
        }
    }

    #[test]
    fn the_chart_default_admits_anyone_on_both_lines() {
        let v = json!({"hub": {"config": {"JupyterHub": {"authenticator_class": "dummy"}}}});
        assert_eq!(name(&read(v.clone(), ChartLine::V3)), "anyone");
        assert_eq!(name(&read(v, ChartLine::V4)), "anyone");
    }

    #[test]
    fn an_empty_allow_list_means_what_the_pinned_jupyterhub_says() {
        let pam = json!({"hub": {"config": {"JupyterHub": {"authenticator_class": "pam"}}}});
        assert_eq!(name(&read(pam.clone(), ChartLine::V3)), "open");
        assert_eq!(name(&read(pam, ChartLine::V4)), "listed");
        let gh = json!({"hub": {"config": {"JupyterHub": {"authenticator_class": "github"}}}});
        assert_eq!(name(&read(gh.clone(), ChartLine::V3)), "listed");
        assert_eq!(name(&read(gh, ChartLine::V4)), "listed");
    }

    #[test]
    fn class_sections_and_allow_all_are_read() {
        let org = json!({"hub": {"config": {
            "JupyterHub": {"authenticator_class": "oauthenticator.github.GitHubOAuthenticator"},
            "GitHubOAuthenticator": {"allowed_organizations": ["physics"], "client_secret": "x"},
        }}});
        let r = read(org, ChartLine::V4);
        assert_eq!(name(&r), "listed");
        assert!(format!("{r:?}").contains("allowed_organizations"));
        assert!(!format!("{r:?}").contains("\"x\""));
        let all = json!({"hub": {"config": {
            "JupyterHub": {"authenticator_class": "github"},
            "Authenticator": {"allowed_users": ["a"]},
            "GitHubOAuthenticator": {"allow_all": true},
        }}});
        assert_eq!(name(&read(all, ChartLine::V3)), "open");
        let pw = json!({"hub": {"config": {
            "JupyterHub": {"authenticator_class": "dummy"},
            "DummyAuthenticator": {"password": "p"},
        }}});
        assert_eq!(name(&read(pw, ChartLine::V4)), "open");
    }

    #[test]
    fn python_on_allow_traits_is_cited() {
        let v = json!({"hub": {
            "config": {"JupyterHub": {"authenticator_class": "github"}, "Authenticator": {"allowed_users": ["a"]}},
            "extraConfig": {"auth": "c.GitHubOAuthenticator.client_id = 'x'\nc.Authenticator.allow_all = True\n"},
        }});
        match read(v, ChartLine::V4) {
            ReadBack::CannotVerify { reason } => {
                assert!(reason.contains("line 2"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deprecated_keys_are_named_unless_the_chart_sets_them() {
        let values = json!({"hub": {"config": {"JupyterHub": {"admin_access": false, "authenticator_class": "github"}, "Authenticator": {"whitelist": ["a"]}}}});
        let defaults = json!({"hub": {"config": {"JupyterHub": {"admin_access": true}}}});
        let view = ValuesView {
            values: &values,
            defaults: &defaults,
            manifests: None,
            chart: ChartLine::V4,
            more: Default::default(),
        };
        let d = deprecated(&view);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].contains("JupyterHub 2.0") && d[1].contains("1.2"));
        let same = json!({"hub": {"config": {"JupyterHub": {"admin_access": true}}}});
        let view = ValuesView {
            values: &same,
            defaults: &defaults,
            manifests: None,
            chart: ChartLine::V4,
            more: Default::default(),
        };
        assert!(deprecated(&view).is_empty());
    }
}

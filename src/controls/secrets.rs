//! Credentials kept out of Helm values. Values files end up in git, in CI
//! logs and, whole, in the chart's `hub` Secret; a credential written into
//! one is as public as the least guarded copy. The chart generates the
//! cookie secret, the proxy token, the auth-state keys and service tokens
//! itself when they are left unset, and reads credentials of one's own from
//! the Secret `hub.existingSecret` names or from `valueFrom.secretKeyRef`.
//!
//! Read back, a literal is reported by its key only: no finding, diff or
//! report ever carries the value.

use serde_json::{Value, json};

use super::{Control, ControlDef, Judgement, ReadBack, Setting, ValuesView};
use crate::controls::lowering::Lowering;
use crate::effective::Origin;
use crate::plan::Selected;
use crate::policy::{HttpsMode, Policy, SecretsMode};

pub struct SecretsControl;

pub(crate) mod mode {
    use super::Setting;

    pub static REFERENCES_ONLY: Setting = Setting {
        name: "references-only",
        rank: 0,
        summary: "no credential in values: the chart generates its own secrets, others come from `hub.existingSecret` or `valueFrom.secretKeyRef`",
    };
    pub static LITERALS_ALLOWED: Setting = Setting {
        name: "literals-allowed",
        rank: 1,
        summary: "credentials may be written into values files (and so into git, CI logs and the chart's `hub` Secret)",
    };
}

static DEF: ControlDef = ControlDef {
    id: "secrets",
    title: "Credentials kept out of Helm values",
    field: "/spec/secrets/mode",
    rationale: "Values files are committed, passed around in CI and copied whole into the chart's `hub` Secret; a \
        password, OAuth client secret or token written into one is readable by everyone who can read any copy. \
        Referencing a Secret keeps the credential where access to it is controlled and rotation does not touch the values.",
    settings: &[&mode::REFERENCES_ONLY, &mode::LITERALS_ALLOWED],
    values_keys: &[
        "hub.cookieSecret",
        "proxy.secretToken",
        "hub.db.password",
        "hub.config.CryptKeeper.keys",
        "hub.existingSecret",
        "hub.services",
        "hub.extraEnv",
        "singleuser.extraEnv",
        "hub.extraFiles",
        "singleuser.extraFiles",
        "proxy.https.manual.key",
    ],
    read_only_keys: &[
        "hub.cookieSecret",
        "proxy.secretToken",
        "hub.db.password",
        "hub.config.CryptKeeper.keys",
        "hub.services",
        "hub.extraEnv",
        "singleuser.extraEnv",
        "hub.extraFiles",
        "singleuser.extraFiles",
        "proxy.https.manual.key",
    ],
    spawner_traits: &[],
};

const PTR: &str = "/spec/secrets";

/// Where a credential of one's own goes instead of the values.
const WHERE_INSTEAD: &str = "the Secret named by `hub.existingSecret` (the chart's `hub` Secret layout: keys `hub.db.password`, \
    `hub.services.<name>.apiToken`, `hub.config.JupyterHub.cookie_secret`, `hub.config.CryptKeeper.keys` joined with `;`, and \
    `values.yaml` for any other value, e.g. `hub.config.GitHubOAuthenticator.client_secret`), or a `hub.extraEnv` / \
    `singleuser.extraEnv` entry with `valueFrom.secretKeyRef` (OAuthenticator reads `OAUTH_CLIENT_SECRET`)";

impl Control for SecretsControl {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn admission_gap(&self) -> Option<&'static str> {
        Some(
            "credentials in Helm values reach pods through the chart's Secrets; a pod spec does not show where they came from",
        )
    }
    fn selected(&self, p: &Policy) -> Selected {
        match p.spec.secrets.mode {
            SecretsMode::ReferencesOnly => mode::REFERENCES_ONLY.selected(),
            SecretsMode::LiteralsAllowed => mode::LITERALS_ALLOWED.selected(),
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let s = &p.spec.secrets;
        if let Some(name) = &s.existing_secret {
            cx.set_at(
                &format!("{PTR}/existingSecret"),
                &["hub", "existingSecret"],
                json!(name),
            );
            cx.note(
                &format!("{PTR}/existingSecret"),
                format!(
                    "the Secret `{name}` must exist in namespace `{}` before the hub starts; the hub reads its keys over the chart's own \
                     (`hub.db.password`, `hub.services.<name>.apiToken`, `hub.config.JupyterHub.cookie_secret`, `hub.config.CryptKeeper.keys`, \
                     and `values.yaml`, merged over the values); `proxy.secretToken` is read only from the chart's own Secret",
                    p.metadata.namespace
                ),
            );
        }
        match s.mode {
            SecretsMode::ReferencesOnly => {
                if p.spec.https.mode == HttpsMode::Manual {
                    cx.error(
                        DEF.field,
                        "`https.mode: manual` writes the TLS private key into values.yaml, which `secrets.mode: references-only` forbids",
                        "use `https.mode: secret` with a TLS Secret managed elsewhere (e.g. by cert-manager), or set `secrets.mode: literals-allowed`",
                    );
                    return;
                }
                cx.note(
                    DEF.field,
                    "write no credential into values files: leave `hub.cookieSecret`, `proxy.secretToken`, `hub.config.CryptKeeper.keys` and \
                     `hub.services.<name>.apiToken` unset (the chart generates them and keeps them in its `hub` Secret), and pass passwords, \
                     OAuth client secrets and tokens of your own through the Secret named by `hub.existingSecret` or a `valueFrom.secretKeyRef` \
                     in `hub.extraEnv`; `check` reports every literal it finds",
                );
            }
            SecretsMode::LiteralsAllowed => cx.note(
                DEF.field,
                "credentials may be written into values files; whoever reads a copy (git, CI logs, the chart's `hub` Secret) reads them",
            ),
        }
    }
    fn judge(&self, v: &ValuesView) -> Judgement {
        let found = literals(v.values);
        let Some(first) = found.first() else {
            return Judgement::plain(ReadBack::Setting(mode::REFERENCES_ONLY.selected()));
        };
        let keys: Vec<String> = found
            .iter()
            .map(|l| format!("`{}`", crate::paths::dotted_values_path(&l.path)))
            .collect();
        Judgement {
            read_back: ReadBack::Setting(
                mode::LITERALS_ALLOWED.with(format!("literal credentials at {}", keys.join(", "))),
            ),
            by: Some(Origin::values(&first.path)),
            unverified: None,
            exposes: false,
        }
    }
    fn hides_values(&self) -> bool {
        true
    }
    /// Each literal removed or replaced by a reference to the Secret the
    /// policy names (`hub-credentials` when it names none): the chart keeps
    /// the secrets it generates (cookie secret, proxy token, auth-state keys,
    /// service tokens) in its own Secret across upgrades, and the hub reads
    /// the Secret `hub.existingSecret` names over it.
    fn remedy(&self, p: &Policy, v: &ValuesView) -> Option<Value> {
        let found = literals(v.values);
        if found.is_empty() {
            return None;
        }
        let secret = p
            .spec
            .secrets
            .existing_secret
            .clone()
            .unwrap_or_else(|| "hub-credentials".into());
        let mut fix = json!({});
        let mut existing = false;
        for l in &found {
            let path: Vec<&str> = l.path.iter().map(String::as_str).collect();
            match path.as_slice() {
                // `NAME: literal` or `NAME: {value: literal}` in a map-form extraEnv.
                [part, "extraEnv", name] | [part, "extraEnv", name, "value"]
                    if !name.chars().all(|c| c.is_ascii_digit()) =>
                {
                    crate::values::set(
                        &mut fix,
                        &[part.to_string(), "extraEnv".into(), name.to_string()],
                        json!({"value": null, "valueFrom": {"secretKeyRef": {"name": secret, "key": name}}}),
                    );
                }
                // A list item or file content cannot be patched from another file.
                [_, "extraEnv", ..]
                | [_, "extraFiles", ..]
                | ["hub", "extraConfig", ..]
                | ["proxy", "https", ..] => {}
                _ => {
                    existing |= path.first() == Some(&"hub");
                    crate::values::set(&mut fix, &l.path, Value::Null);
                }
            }
        }
        if existing {
            crate::values::set(
                &mut fix,
                &["hub".into(), "existingSecret".into()],
                json!(secret),
            );
        }
        fix.as_object()
            .is_some_and(|m| !m.is_empty())
            .then_some(fix)
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        use crate::validate::formats::k8s_subdomain;
        let found = literals(v.values);
        p.spec.secrets.existing_secret = v
            .str(&["hub", "existingSecret"])
            .filter(|n| k8s_subdomain(n).is_ok())
            .map(str::to_string);
        if found.is_empty() {
            p.spec.secrets.mode = SecretsMode::ReferencesOnly;
            return Vec::new();
        }
        p.spec.secrets.mode = SecretsMode::LiteralsAllowed;
        vec![format!(
            "credentials are written into the values ({}): the proposal allows literals; move them to {WHERE_INSTEAD}, then set `secrets.mode: references-only`",
            found
                .iter()
                .map(|l| format!("`{}`", crate::paths::dotted_values_path(&l.path)))
                .collect::<Vec<_>>()
                .join(", ")
        )]
    }
}

/// A credential written into the values: where, never what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    pub path: Vec<String>,
}

fn at(path: &[&str]) -> Literal {
    Literal {
        path: path.iter().map(|s| s.to_string()).collect(),
    }
}

/// A string that holds something (not empty, not only blanks).
fn filled(v: Option<&Value>) -> bool {
    match v {
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(a)) => a.iter().any(|x| filled(Some(x))),
        Some(Value::Number(_)) => true,
        _ => false,
    }
}

/// Trait names under `hub.config` whose values are credentials.
fn secret_trait(section: &str, name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    (section == "CryptKeeper" && n == "keys")
        || matches!(
            n.as_str(),
            "client_secret" | "cookie_secret" | "auth_token" | "proxy_auth_token" | "api_token"
        )
        || n.ends_with("password")
        || n.ends_with("_secret")
}

/// An environment variable name that says it holds a credential.
fn secret_env_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    let words: Vec<&str> = n.split(['_', '-', '.']).collect();
    [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "CREDENTIALS",
        "CREDENTIAL",
    ]
    .iter()
    .any(|w| n.contains(w))
        || words.iter().any(|w| matches!(*w, "KEY" | "APIKEY"))
}

/// A literal environment value that is not a credential: a path, a URL
/// without user information, a reference to another variable, a flag
/// (`JUPYTERHUB_ALLOW_TOKEN_IN_URL=0` names a token but holds none).
fn harmless_env_value(v: &str) -> bool {
    let v = v.trim();
    v.is_empty()
        || v.starts_with('/')
        || (v.starts_with("$(") && v.ends_with(')'))
        || ((v.starts_with("http://") || v.starts_with("https://")) && !v.contains('@'))
        || matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "0" | "1"
        )
}

/// Every credential written into the values, in a fixed order.
pub fn literals(values: &Value) -> Vec<Literal> {
    let get = |p: &[&str]| crate::values::get(values, p);
    let mut out = Vec::new();
    for p in [
        &["hub", "cookieSecret"][..],
        &["proxy", "secretToken"],
        &["hub", "db", "password"],
        &["proxy", "https", "manual", "key"],
    ] {
        if filled(get(p)) {
            out.push(at(p));
        }
    }
    if let Some(config) = get(&["hub", "config"]).and_then(Value::as_object) {
        for (section, traits) in config {
            for (name, v) in traits.as_object().into_iter().flatten() {
                if secret_trait(section, name) && filled(Some(v)) {
                    out.push(at(&["hub", "config", section, name]));
                }
            }
        }
    }
    if let Some(services) = get(&["hub", "services"]).and_then(Value::as_object) {
        for (name, s) in services {
            for key in ["apiToken", "api_token"] {
                if filled(s.get(key)) {
                    out.push(at(&["hub", "services", name, key]));
                }
            }
        }
    }
    for part in ["hub", "singleuser"] {
        env_literals(get(&[part, "extraEnv"]), part, &mut out);
        file_literals(get(&[part, "extraFiles"]), part, &mut out);
    }
    // `c.GitHubOAuthenticator.client_secret = "…"` in the hub's Python.
    if let Some(code) = get(&["hub", "extraConfig"]).and_then(Value::as_object) {
        for (name, text) in code {
            if text.as_str().is_some_and(|t| text_secret(t, true)) {
                out.push(at(&["hub", "extraConfig", name]));
            }
        }
    }
    out
}

fn env_literals(env: Option<&Value>, part: &str, out: &mut Vec<Literal>) {
    match env {
        // `NAME: value` or `NAME: {value: …}` / `{valueFrom: …}`.
        Some(Value::Object(m)) => {
            for (name, v) in m {
                let name_in = v.get("name").and_then(Value::as_str).unwrap_or(name);
                let (literal, path) = match v {
                    Value::String(s) => (Some(s.as_str()), vec![part, "extraEnv", name.as_str()]),
                    Value::Object(o) => (
                        o.get("value").and_then(Value::as_str),
                        vec![part, "extraEnv", name.as_str(), "value"],
                    ),
                    _ => (None, Vec::new()),
                };
                if let Some(s) = literal
                    && secret_env_name(name_in)
                    && !harmless_env_value(s)
                {
                    out.push(at(&path));
                }
            }
        }
        // `- {name: NAME, value: …}`.
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let name = item.get("name").and_then(Value::as_str).unwrap_or("");
                if let Some(s) = item.get("value").and_then(Value::as_str)
                    && secret_env_name(name)
                    && !harmless_env_value(s)
                {
                    out.push(at(&[part, "extraEnv", &i.to_string(), "value"]));
                }
            }
        }
        _ => {}
    }
}

/// Keys of structured file content whose values are credentials.
fn secret_data_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "client_secret",
        "clientsecret",
        "secret_key",
        "secret_access_key",
        "api_key",
        "apikey",
        "api_token",
        "access_token",
        "auth_token",
        "private_key",
        "token",
    ]
    .iter()
    .any(|w| k == *w || k.ends_with(&format!("_{w}")) || k.ends_with(&format!("-{w}")))
}

/// Whether structured file content (`data:`) holds a credential; the path
/// below `data` of the first one.
fn data_secret(v: &Value, path: &mut Vec<String>) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, x)| {
            path.push(k.clone());
            let hit = (secret_data_key(k)
                && matches!(x, Value::String(s) if !harmless_env_value(s)))
                || data_secret(x, path);
            if !hit {
                path.pop();
            }
            hit
        }),
        Value::Array(a) => a.iter().enumerate().any(|(i, x)| {
            path.push(i.to_string());
            let hit = data_secret(x, path);
            if !hit {
                path.pop();
            }
            hit
        }),
        _ => false,
    }
}

/// Whether a file's text (or the hub's Python) holds a credential: a PEM
/// private key, or a line assigning a quoted literal (or a plain YAML
/// scalar) to a credential key.
fn text_secret(text: &str, python: bool) -> bool {
    if text.contains("-----BEGIN") && text.contains("PRIVATE KEY-----") {
        return true;
    }
    text.lines().any(|line| {
        let line = line.trim();
        if line.starts_with('#') {
            return false;
        }
        let Some((key, value)) = line.split_once([':', '=']) else {
            return false;
        };
        // `c.GitHubOAuthenticator.client_secret`, `export API_TOKEN`.
        let key = key
            .trim()
            .trim_start_matches("export ")
            .trim_matches(['"', '\''])
            .rsplit('.')
            .next()
            .unwrap_or("");
        let value = value.trim().trim_end_matches(',');
        let quoted = value.len() > 2
            && ((value.starts_with('"') && value.ends_with('"'))
                || (value.starts_with('\'') && value.ends_with('\'')));
        let inner = value.trim_matches(['"', '\'']);
        // In Python a bare word is a name, not a literal.
        let plain = !python
            && !value.is_empty()
            && !quoted
            && inner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_+/=.~".contains(c));
        (secret_data_key(key) || secret_env_name(key) && key.contains('_'))
            && (quoted || plain)
            && !harmless_env_value(inner)
            && !matches!(inner, "null" | "None" | "~")
    })
}

fn file_literals(files: Option<&Value>, part: &str, out: &mut Vec<Literal>) {
    let Some(files) = files.and_then(Value::as_object) else {
        return;
    };
    for (key, f) in files {
        let mut path = Vec::new();
        if let Some(data) = f.get("data")
            && data_secret(data, &mut path)
        {
            let mut p = vec![
                part.to_string(),
                "extraFiles".into(),
                key.clone(),
                "data".into(),
            ];
            p.extend(path);
            out.push(Literal { path: p });
        } else if let Some(text) = f.get("stringData").and_then(Value::as_str)
            && text_secret(text, false)
        {
            out.push(at(&[part, "extraFiles", key, "stringData"]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: Value) -> Vec<String> {
        literals(&v)
            .into_iter()
            .map(|l| crate::paths::dotted_values_path(&l.path))
            .collect()
    }

    #[test]
    fn literals_are_found_by_key() {
        let v = json!({
            "hub": {
                "cookieSecret": "abc",
                "db": {"password": "pw"},
                "config": {
                    "GitHubOAuthenticator": {"client_id": "id", "client_secret": "cs"},
                    "AzureAdOAuthenticator": {"client_secret": ""},
                    "CryptKeeper": {"keys": ["k1"]},
                    "LDAPAuthenticator": {"lookup_dn_search_password": "pw"},
                    "JupyterHub": {"ssl_key": "/etc/tls/key.pem"},
                },
                "services": {"grader": {"apiToken": "t", "url": "http://x"}},
                "extraConfig": {
                    "00-auth": "c.GitHubOAuthenticator.client_secret = \"cs\"\n",
                    "01-env": "import os\nc.GitHubOAuthenticator.client_secret = os.environ[\"CS\"]\n",
                    "02-name": "token = load()\nc.GitHubOAuthenticator.client_secret = token\n",
                },
                "extraEnv": {
                    "GITHUB_TOKEN": "ghp",
                    "DB_PASSWORD": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                    "OAUTH2_TOKEN_URL": "https://example.org/token",
                    "GOOGLE_APPLICATION_CREDENTIALS": "/etc/gcp/key.json",
                    "JUPYTERHUB_CRYPT_KEY": {"value": "abcd"},
                    "KEYCLOAK_URL": "x",
                },
            },
            "proxy": {"secretToken": "tok", "https": {"manual": {"key": "-----BEGIN"}}},
            "singleuser": {
                "extraEnv": [{"name": "AWS_SECRET_ACCESS_KEY", "value": "aws"}, {"name": "LANG", "value": "C"}],
                "extraFiles": {
                    "cfg": {"mountPath": "/etc/x.yaml", "data": {"s3": {"secret_key": "k"}}},
                    "plain": {"mountPath": "/etc/y.yaml", "data": {"theme": "dark"}},
                    "pem": {"mountPath": "/etc/k", "stringData": "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----\n"},
                    "py": {"mountPath": "/etc/c.py", "stringData": "c.GenericOAuthenticator.client_secret = os.environ['X']\n"},
                    "ini": {"mountPath": "/etc/c.ini", "stringData": "[s]\npassword = \"hunter2\"\n"},
                },
            },
        });
        assert_eq!(
            keys(v),
            [
                "hub.cookieSecret",
                "proxy.secretToken",
                "hub.db.password",
                "proxy.https.manual.key",
                "hub.config.GitHubOAuthenticator.client_secret",
                "hub.config.CryptKeeper.keys",
                "hub.config.LDAPAuthenticator.lookup_dn_search_password",
                "hub.services.grader.apiToken",
                "hub.extraEnv.GITHUB_TOKEN",
                "hub.extraEnv.JUPYTERHUB_CRYPT_KEY.value",
                "singleuser.extraEnv[0].value",
                "singleuser.extraFiles.cfg.data.s3.secret_key",
                "singleuser.extraFiles.pem.stringData",
                "singleuser.extraFiles.ini.stringData",
                "hub.extraConfig.00-auth",
            ]
        );
    }

    #[test]
    fn chart_defaults_hold_no_literal() {
        for r in crate::chart::releases::all() {
            assert!(literals(&r.defaults()).is_empty(), "{}", r.version);
        }
    }
}

//! Headers that tell browsers how to treat the hub: Strict-Transport-Security
//! and the `frame-ancestors` directive of the Content-Security-Policy.

use serde_json::{Map, Value, json};

use super::browser::https_mode;
use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::controls::lowering::Lowering;
use crate::plan::Selected;
use crate::policy::{HttpsMode, Policy, UserOrigin};

pub struct HstsControl;
pub struct FramingControl;

/// `hub.config.JupyterHub.tornado_settings.headers`, where the chart passes
/// response headers to JupyterHub.
const HEADERS: [&str; 5] = ["hub", "config", "JupyterHub", "tornado_settings", "headers"];

/// A response header the hub's configuration sets (names are
/// case-insensitive, as Tornado's `HTTPHeaders` reads them).
fn hub_header<'v>(v: &'v ValuesView, name: &str) -> Option<&'v str> {
    v.get(&HEADERS)
        .and_then(Value::as_object)?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, x)| x.as_str())
}

/// Sets one of the hub's response headers. A `tornado_settings` dict in
/// `hub.config` replaces the one the chart's `jupyterhub_config.py` sets,
/// so the chart's own entry is written beside it.
fn set_hub_header(cx: &mut Lowering, pointer: &str, name: &str, value: String) {
    let mut path: Vec<&str> = HEADERS.to_vec();
    path.push(name);
    cx.set_at(pointer, &path, json!(value));
    cx.set_at(
        pointer,
        &[
            "hub",
            "config",
            "JupyterHub",
            "tornado_settings",
            "slow_spawn_timeout",
        ],
        json!(0),
    );
}

/// Python that may set the hub's headers.
fn python_sets_headers(v: &ValuesView) -> bool {
    v.extra_config_mentions("tornado_settings")
        || v.extra_config_mentions("Content-Security-Policy")
        || v.extra_config_mentions("Strict-Transport-Security")
}

pub(crate) mod hsts {
    use super::Setting;

    pub static ENFORCED: Setting = Setting {
        name: "enforced",
        rank: 0,
        summary: "Strict-Transport-Security: after one visit browsers refuse plain HTTP to the hub's host for `maxAge` seconds",
    };
    pub static OFF: Setting = Setting {
        name: "off",
        rank: 1,
        summary: "no Strict-Transport-Security: each visit that starts with `http://` can be intercepted before the redirect",
    };
}

static HSTS_DEF: ControlDef = ControlDef {
    id: "hsts",
    title: "HTTP Strict Transport Security",
    field: "/spec/browser/hsts/maxAge",
    rationale: "A redirect from HTTP to HTTPS protects nobody on a hostile network: the first plain request can be answered \
        by whoever sits on the path, who then keeps the user on a copy of the login page. HSTS makes the browser use HTTPS \
        by itself after one visit. The price: the host cannot go back to plain HTTP until `maxAge` runs out.",
    settings: &[&hsts::ENFORCED, &hsts::OFF],
    values_keys: &[
        "proxy.traefik.hsts",
        "hub.config.JupyterHub.tornado_settings",
    ],
    read_only_keys: &[],
    spawner_traits: &[],
};

/// autohttps's (Traefik's) default max age, about six months.
const CHART_MAX_AGE: u64 = 15_724_800;
const YEAR: u32 = 31_536_000;

/// The header's value for a policy's settings.
fn header_value(max_age: u32, subdomains: bool, preload: bool) -> String {
    let mut v = format!("max-age={max_age}");
    if subdomains {
        v.push_str("; includeSubDomains");
    }
    if preload {
        v.push_str("; preload");
    }
    v
}

/// `max-age` of a Strict-Transport-Security header value.
fn max_age(header: &str) -> Option<u64> {
    header.split(';').find_map(|d| {
        let (k, v) = d.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("max-age")
            .then(|| v.trim().trim_matches('"').parse().ok())?
    })
}

fn include_subdomains(header: &str) -> bool {
    header
        .split(';')
        .any(|d| d.trim().eq_ignore_ascii_case("includeSubDomains"))
}

/// The HSTS max age, whether subdomains are covered, and what sends it.
fn found_hsts(v: &ValuesView) -> Result<Option<(u64, bool, String)>, String> {
    if let Some(h) = hub_header(v, "Strict-Transport-Security") {
        return Ok(max_age(h).map(|a| (a, include_subdomains(h), "the hub's headers".into())));
    }
    match https_mode(v) {
        Some(HttpsMode::Letsencrypt) => {
            let age = v
                .get(&["proxy", "traefik", "hsts", "maxAge"])
                .and_then(Value::as_u64)
                .unwrap_or(CHART_MAX_AGE);
            let sub = v.bool(&["proxy", "traefik", "hsts", "includeSubdomains"]) == Some(true);
            Ok(Some((age, sub, "autohttps".into())))
        }
        Some(HttpsMode::Ingress) => Err(
            "TLS ends at an Ingress controller, which decides whether HSTS is sent (ingress-nginx sends it by default)"
                .into(),
        ),
        Some(HttpsMode::Gateway) => Err(
            "TLS ends at a Gateway, whose implementation decides whether HSTS is sent".into(),
        ),
        Some(HttpsMode::Disabled) => Ok(None),
        Some(_) => Ok(Some((0, false, "nothing: the proxy and the hub send no such header".into()))),
        None => Err("how the hub is served could not be read".into()),
    }
}

impl Control for HstsControl {
    fn def(&self) -> &'static ControlDef {
        &HSTS_DEF
    }
    fn admission_gap(&self) -> Option<&'static str> {
        Some("response headers are the hub's and autohttps's configuration, not a pod's")
    }
    fn selected(&self, p: &Policy) -> Selected {
        let h = &p.spec.browser.hsts;
        match h.max_age {
            Some(0) => hsts::OFF.selected(),
            Some(n) => hsts::ENFORCED.with(header_value(n, h.include_subdomains, h.preload)),
            None if p.spec.https.mode == HttpsMode::Letsencrypt => {
                hsts::ENFORCED.with(format!("chart default, max-age={CHART_MAX_AGE}"))
            }
            None => hsts::OFF.with("chart default"),
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let h = &p.spec.browser.hsts;
        let field = HSTS_DEF.field;
        let Some(age) = h.max_age else {
            return;
        };
        let mode = p.spec.https.mode;
        if age > 0 && mode == HttpsMode::Disabled {
            cx.error(
                field,
                "browsers ignore Strict-Transport-Security sent over plain HTTP, and `https.mode: disabled` serves nothing else",
                "serve the hub over HTTPS, or set `browser.hsts.maxAge: 0`",
            );
            return;
        }
        if h.preload && (!h.include_subdomains || age < YEAR) {
            cx.error(
                "/spec/browser/hsts/preload",
                "browsers' preload lists take only hosts whose HSTS has `includeSubDomains` and a max age of a year or more",
                "set `includeSubdomains: true` and `maxAge: 31536000` or more, or drop `preload`",
            );
            return;
        }
        if mode == HttpsMode::Letsencrypt {
            cx.set_at(field, &["proxy", "traefik", "hsts", "maxAge"], json!(age));
            cx.set_at(
                field,
                &["proxy", "traefik", "hsts", "includeSubdomains"],
                json!(h.include_subdomains),
            );
            cx.set_at(
                field,
                &["proxy", "traefik", "hsts", "preload"],
                json!(h.preload),
            );
        } else if mode != HttpsMode::Disabled && age > 0 {
            set_hub_header(
                cx,
                field,
                "Strict-Transport-Security",
                header_value(age, h.include_subdomains, h.preload),
            );
            cx.note(
                field,
                "the hub sends the header on its own pages (login, spawn, control panel); browsers apply it to the whole host \
                 from the first visit",
            );
        }
        if age == 0 {
            cx.warn(
                field,
                "no Strict-Transport-Security: a visit that starts with `http://` can be intercepted before the redirect",
                "set `browser.hsts.maxAge` (a year: 31536000)",
            );
        } else if p.spec.browser.origin == UserOrigin::PerUser && !h.include_subdomains {
            cx.warn(
                field,
                "users' servers are on hosts under the hub's, which HSTS without `includeSubdomains` does not cover",
                "set `browser.hsts.includeSubdomains: true`",
            );
        }
    }
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        if python_sets_headers(v) {
            return ReadBack::CannotVerify {
                reason: "`hub.extraConfig` sets the hub's Tornado settings in Python".into(),
            };
        }
        match found_hsts(v) {
            Ok(Some((age, sub, by))) if age > 0 => {
                let subs = if sub { "; includeSubDomains" } else { "" };
                ReadBack::Setting(hsts::ENFORCED.with(format!("max-age={age}{subs} from {by}")))
            }
            Ok(Some((_, _, by))) if by.starts_with("nothing") => {
                ReadBack::Setting(hsts::OFF.with(by))
            }
            Ok(Some((_, _, by))) => {
                ReadBack::Setting(hsts::OFF.with(format!("max-age=0 from {by}")))
            }
            Ok(None) => ReadBack::Setting(hsts::OFF.with("the hub is served over plain HTTP")),
            Err(reason) => ReadBack::CannotVerify { reason },
        }
    }
    fn parameters(&self, p: &Policy, v: &ValuesView) -> Vec<String> {
        let h = &p.spec.browser.hsts;
        let (Some(want), Ok(Some((age, sub, by)))) = (h.max_age, found_hsts(v)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if age > 0 && age < u64::from(want) {
            out.push(format!(
                "{by} sends max-age={age}, below the policy's {want}"
            ));
        }
        if h.include_subdomains && !sub && age > 0 {
            out.push(format!("{by} leaves out `includeSubDomains`"));
        }
        out
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let h = &mut p.spec.browser.hsts;
        match found_hsts(v) {
            Ok(Some((age, sub, _))) => {
                h.max_age = Some(u32::try_from(age).unwrap_or(u32::MAX));
                h.include_subdomains = sub;
                h.preload = false;
            }
            Ok(None) => {
                h.max_age = None;
            }
            Err(_) => {}
        }
        Vec::new()
    }
}

pub(crate) mod framing {
    use super::Setting;

    pub static NONE: Setting = Setting {
        name: "none",
        rank: 0,
        summary: "no page may show the hub or a user's server in a frame (`frame-ancestors 'none'`, JupyterHub's default since 4.1)",
    };
    pub static LISTED: Setting = Setting {
        name: "listed",
        rank: 1,
        summary: "only the listed origins may frame the hub and users' servers",
    };
    pub static ANY: Setting = Setting {
        name: "any",
        rank: 2,
        summary: "any page may frame the hub or users' servers, and trick users into clicks inside them",
    };
}

static FRAMING_DEF: ControlDef = ControlDef {
    id: "framing",
    title: "Who may frame the hub",
    field: "/spec/browser/frameAncestors",
    rationale: "A page that shows the hub in an invisible frame can make a logged-in user click buttons they cannot see: \
        start a server, approve an OAuth grant, run a cell. JupyterHub refuses all framing since 4.1; a learning platform \
        that embeds notebooks needs its origin listed, and nothing wider.",
    settings: &[&framing::NONE, &framing::LISTED, &framing::ANY],
    values_keys: &[
        "hub.config.JupyterHub.tornado_settings",
        "singleuser.extraFiles",
    ],
    read_only_keys: &[],
    spawner_traits: &[],
};

/// Where the user servers' setting is written: a Jupyter Server config
/// file the server loads from its system config directory.
const SERVER_FILE: &str = "z2jh-policy-frame-ancestors";
const SERVER_PATH: &str = "/etc/jupyter/jupyter_server_config.d/z2jh-policy-frame-ancestors.json";

/// The header a policy's `frameAncestors` list compiles to.
fn policy_csp(a: &[crate::policy::FrameAncestor]) -> String {
    let sources: Vec<&str> = a
        .iter()
        .map(|x| match x.0.as_str() {
            "self" => "'self'",
            origin => origin,
        })
        .collect();
    format!("frame-ancestors {}", sources.join(" "))
}

/// The `frame-ancestors` sources of a CSP header, `None` when it has no
/// such directive.
fn ancestors(csp: &str) -> Option<Vec<&str>> {
    csp.split(';').find_map(|d| {
        let mut words = d.split_whitespace();
        words
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("frame-ancestors"))
            .then(|| words.collect())
    })
}

/// The framing a CSP header allows.
fn framing_of(csp: &str) -> Selected {
    match ancestors(csp) {
        None => framing::ANY.with("Content-Security-Policy without `frame-ancestors`"),
        Some(s) if s.is_empty() || s == ["'none'"] => framing::NONE.selected(),
        Some(s) => {
            // `*` and a scheme alone (`https:`) admit every page; a
            // wildcard host (`*.example.org`) is still a listed domain.
            let wide = s
                .iter()
                .find(|x| **x == "*" || (x.ends_with(':') && !x.contains('/')));
            match wide {
                Some(w) => framing::ANY.with(format!("frame-ancestors {w}")),
                None => framing::LISTED.with(s.join(" ")),
            }
        }
    }
}

/// The CSPs users' servers' config files set, each with its file's key in
/// `singleuser.extraFiles`.
fn server_csp(v: &ValuesView) -> Result<Vec<(String, String)>, String> {
    let Some(files) = v
        .get(&["singleuser", "extraFiles"])
        .and_then(Value::as_object)
    else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for (name, f) in files {
        let path = f
            .get("mountPath")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !path.contains("jupyter_server_config") && !path.contains("jupyter_notebook_config") {
            continue;
        }
        let headers = f
            .pointer("/data/ServerApp/tornado_settings/headers")
            .or_else(|| f.pointer("/data/NotebookApp/tornado_settings/headers"))
            .and_then(Value::as_object);
        match headers {
            Some(h) => {
                if let Some((_, csp)) = h
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("Content-Security-Policy"))
                    && let Some(csp) = csp.as_str()
                {
                    found.push((name.clone(), csp.to_string()));
                }
            }
            None if f.get("stringData").is_some() || f.get("binaryData").is_some() => {
                return Err(format!(
                    "`singleuser.extraFiles.{name}` is a server config file written as text"
                ));
            }
            None => {}
        }
    }
    Ok(found)
}

impl Control for FramingControl {
    fn def(&self) -> &'static ControlDef {
        &FRAMING_DEF
    }
    fn admission_gap(&self) -> Option<&'static str> {
        Some("response headers are the hub's and the servers' configuration, not a pod's")
    }
    fn found_only(&self) -> &'static [&'static Setting] {
        static FOUND: [&Setting; 1] = [&framing::ANY];
        &FOUND
    }
    fn selected(&self, p: &Policy) -> Selected {
        let a = &p.spec.browser.frame_ancestors;
        if a.is_empty() {
            framing::NONE.selected()
        } else {
            framing::LISTED.with(a.iter().map(|x| x.0.as_str()).collect::<Vec<_>>().join(" "))
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let a = &p.spec.browser.frame_ancestors;
        if a.is_empty() {
            return;
        }
        let csp = policy_csp(a);
        let field = FRAMING_DEF.field;
        set_hub_header(cx, field, "Content-Security-Policy", csp.clone());
        let mut headers = Map::new();
        headers.insert("Content-Security-Policy".into(), json!(csp));
        cx.set_at(
            field,
            &["singleuser", "extraFiles", SERVER_FILE],
            json!({
                "mountPath": SERVER_PATH,
                "data": {"ServerApp": {"tornado_settings": {"headers": headers}}},
            }),
        );
        cx.note(
            field,
            format!(
                "users' servers load `{SERVER_PATH}`; a `ServerApp.tornado_settings` the image sets elsewhere replaces this one or is replaced by it"
            ),
        );
        cx.note(
            field,
            "a user who logs in inside the frame needs the hub's cookies in a third-party context (`SameSite=None`), which \
             browsers that block third-party cookies refuse: open the login in a new window",
        );
    }
    fn judge(&self, v: &ValuesView) -> super::Judgement {
        use crate::effective::Origin;
        if python_sets_headers(v) {
            return super::Judgement::plain(ReadBack::CannotVerify {
                reason: "`hub.extraConfig` sets the hub's Tornado settings in Python".into(),
            });
        }
        let files = match server_csp(v) {
            Ok(f) => f,
            Err(reason) => return super::Judgement::plain(ReadBack::CannotVerify { reason }),
        };
        let mut all: Vec<(Selected, Origin)> = Vec::new();
        if let Some(csp) = hub_header(v, "Content-Security-Policy") {
            all.push((framing_of(csp), Origin::values(&HEADERS)));
        }
        for (name, csp) in &files {
            let path = ["singleuser", "extraFiles", name.as_str(), "data"];
            all.push((framing_of(csp), Origin::values(&path)));
        }
        // The weaker of the hub's pages and the users' servers decides.
        match all.into_iter().max_by_key(|(s, _)| s.setting.rank) {
            Some((s, by)) => {
                let mut j = super::Judgement::plain(ReadBack::Setting(s));
                j.by = Some(by);
                j
            }
            None => super::Judgement::plain(ReadBack::Setting(framing::NONE.selected())),
        }
    }
    fn remedy(&self, p: &Policy, v: &ValuesView) -> Option<Value> {
        // A server config file of the deployment's own keeps its header
        // beside the policy's: the fix writes the policy's value into it.
        let files = server_csp(v).ok()?;
        let a = &p.spec.browser.frame_ancestors;
        let csp = if a.is_empty() {
            "frame-ancestors 'none'".to_string()
        } else {
            policy_csp(a)
        };
        let mut fix = json!({});
        let mut put = |path: &[&str]| {
            let path: Vec<String> = path.iter().map(|k| k.to_string()).collect();
            crate::values::set(&mut fix, &path, json!(csp));
        };
        let mut hub: Vec<&str> = HEADERS.to_vec();
        hub.push("Content-Security-Policy");
        put(&hub);
        for (name, _) in &files {
            put(&[
                "singleuser",
                "extraFiles",
                name,
                "data",
                "ServerApp",
                "tornado_settings",
                "headers",
                "Content-Security-Policy",
            ]);
        }
        if !a.is_empty() {
            crate::values::set(
                &mut fix,
                &["singleuser".into(), "extraFiles".into(), SERVER_FILE.into()],
                json!({
                    "mountPath": SERVER_PATH,
                    "data": {"ServerApp": {"tornado_settings": {"headers": {"Content-Security-Policy": csp}}}},
                }),
            );
        }
        Some(fix)
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        use crate::policy::FrameAncestor;
        use crate::validate::formats::frame_ancestor;
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        let list = &mut p.spec.browser.frame_ancestors;
        list.clear();
        if got.is(&framing::LISTED) {
            let mut lost = Vec::new();
            for s in got.detail.as_deref().unwrap_or_default().split_whitespace() {
                let s = if s == "'self'" { "self" } else { s };
                if frame_ancestor(s).is_ok() {
                    list.push(FrameAncestor(s.to_string()));
                } else {
                    lost.push(format!(
                        "frame-ancestors source `{s}` cannot be stated; left out"
                    ));
                }
            }
            return lost;
        }
        if got.is(&framing::ANY) {
            return vec![format!(
                "framing by any page ({}) cannot be stated; the proposal refuses all framing",
                got.detail.unwrap_or_default()
            )];
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsts_header_values_are_read() {
        assert_eq!(
            max_age("max-age=31536000; includeSubDomains"),
            Some(31_536_000)
        );
        assert_eq!(max_age("includeSubDomains; MAX-AGE=\"60\""), Some(60));
        assert_eq!(max_age("includeSubDomains"), None);
        assert!(include_subdomains("max-age=1; includesubdomains"));
        assert!(!include_subdomains("max-age=1"));
    }

    #[test]
    fn frame_ancestors_are_graded_by_their_widest_source() {
        assert!(framing_of("frame-ancestors 'none'").is(&framing::NONE));
        assert!(framing_of("default-src 'self'").is(&framing::ANY));
        assert!(framing_of("frame-ancestors 'self' https://lms.example.org").is(&framing::LISTED));
        // A wildcard host is a listed domain, not every page.
        assert!(framing_of("frame-ancestors https://*.example.org").is(&framing::LISTED));
        assert!(framing_of("frame-ancestors *.example.org").is(&framing::LISTED));
        assert!(framing_of("frame-ancestors https:").is(&framing::ANY));
        assert!(framing_of("script-src 'self'; frame-ancestors *").is(&framing::ANY));
    }
}

//! Browser isolation between users: the origin users' servers are served
//! from, the `__Host-` cookie prefix, and tokens in URLs. The headers the
//! hub sends (HSTS, `frame-ancestors`) are in `browser_headers.rs`.

use serde_json::{Value, json};

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::chart::ChartLine;
use crate::controls::lowering::Lowering;
use crate::effective::grade::{Verdict, origin, unknown};
use crate::effective::network::Network;
use crate::effective::pod::Pod;
use crate::plan::Selected;
use crate::policy::{CookiePrefix, HttpsMode, Policy, UrlTokens, UserOrigin};

pub struct OriginControl;
pub struct CookiesControl;
pub struct UrlTokensControl;

/// The HTTPS mode a set of values puts in force, when it can be read.
pub(super) fn https_mode(v: &ValuesView) -> Option<HttpsMode> {
    match super::https::HttpsControl.read_back(v) {
        ReadBack::Setting(s) => super::value_of(&super::https::MODES, super::https::setting, &s),
        ReadBack::CannotVerify { .. } => None,
    }
}

/// `hub.config.JupyterHub.<name>`, where the chart passes it to JupyterHub.
fn hub_config<'v>(v: &'v ValuesView, name: &str) -> Option<&'v Value> {
    v.get(&["hub", "config", "JupyterHub", name])
}

/// The policy's host users' servers are named under.
fn hub_host(p: &Policy) -> Option<&str> {
    p.spec.https.hosts.first().map(|h| h.0.as_str())
}

pub(crate) mod user_origin {
    use super::Setting;

    pub static PER_USER: Setting = Setting {
        name: "per-user",
        rank: 0,
        summary: "each user's server on a host of its own (`alice.hub.example.org`): the browser keeps servers' scripts, \
                  storage and cookies apart",
    };
    pub static SHARED: Setting = Setting {
        name: "shared",
        rank: 1,
        summary: "every server under the hub's host (`/user/alice`): a page one user serves can script another user's \
                  session in the same browser (chart default)",
    };
}

static ORIGIN_DEF: ControlDef = ControlDef {
    id: "user-origin",
    title: "A browser origin per user",
    field: "/spec/browser/origin",
    rationale: "A user's server serves whatever its owner writes, HTML and JavaScript included. On the hub's own host, a \
        page from Mallory's server that Alice opens runs with Alice's origin: it can call the hub's API and other servers \
        as Alice. A host per user (`JupyterHub.subdomain_host`) puts each server in its own origin. The price: a wildcard \
        DNS record and a wildcard certificate for `*.<host>`, which Let's Encrypt through autohttps cannot issue.",
    settings: &[&user_origin::PER_USER, &user_origin::SHARED],
    values_keys: &[
        "hub.config.JupyterHub.subdomain_host",
        "proxy.chp.extraCommandLineFlags",
    ],
    read_only_keys: &[],
    spawner_traits: &[],
};

impl Control for OriginControl {
    fn def(&self) -> &'static ControlDef {
        &ORIGIN_DEF
    }
    fn admission_gap(&self) -> Option<&'static str> {
        Some(
            "the host users' servers are served from is the hub's and the proxy's configuration, not a pod's",
        )
    }
    fn selected(&self, p: &Policy) -> Selected {
        match p.spec.browser.origin {
            UserOrigin::PerUser => user_origin::PER_USER.selected(),
            UserOrigin::Shared => user_origin::SHARED.selected(),
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        if p.spec.browser.origin != UserOrigin::PerUser {
            return;
        }
        let field = ORIGIN_DEF.field;
        let Some(host) = hub_host(p) else {
            cx.error(
                field,
                "`browser.origin: per-user` needs `spec.https.hosts`",
                "users' servers are named under the hub's host (`alice.hub.example.org`); list the hub's public DNS name",
            );
            return;
        };
        let mode = p.spec.https.mode;
        if mode == HttpsMode::Letsencrypt {
            cx.error(
                field,
                "`browser.origin: per-user` needs a certificate for `*.<host>`, and autohttps gets its certificate from Let's \
                 Encrypt by HTTP-01, which never issues wildcard certificates",
                "use `https.mode: secret` or `ingress` with a wildcard certificate (cert-manager with a DNS-01 solver), or keep \
                 `browser.origin: shared`",
            );
            return;
        }
        let scheme = if mode == HttpsMode::Disabled {
            "http"
        } else {
            "https"
        };
        cx.set(
            &["hub", "config", "JupyterHub", "subdomain_host"],
            json!(format!("{scheme}://{host}")),
        );
        if cx.chart == ChartLine::V3 {
            // The 4.x proxy template adds the flag itself when
            // `subdomain_host` is set; 3.x routes by path only without it.
            cx.set(
                &["proxy", "chp", "extraCommandLineFlags"],
                json!(["--host-routing"]),
            );
            cx.note(
                field,
                "chart 3.x starts the proxy without host routing: `proxy.chp.extraCommandLineFlags` is set to `[--host-routing]`, \
                 replacing flags other values files give (add yours to the list after this file)",
            );
        }
        cx.note(
            field,
            format!(
                "each user's server is served at `<name>.{host}`: a wildcard DNS record `*.{host}` must point where `{host}` does"
            ),
        );
        match mode {
            HttpsMode::Secret | HttpsMode::Manual => cx.note(
                field,
                format!("the certificate must cover `*.{host}` as well as `{host}`"),
            ),
            HttpsMode::Ingress => cx.note(
                field,
                format!(
                    "the Ingress also answers for `*.{host}`, and its TLS Secret must hold a certificate for both names"
                ),
            ),
            HttpsMode::Gateway => cx.note(
                field,
                format!(
                    "the HTTPRoute takes only the hub's hosts: attach users' hosts with a route of your own for `*.{host}`, on a \
                     Gateway listener whose certificate covers them"
                ),
            ),
            HttpsMode::Offload => cx.note(
                field,
                format!(
                    "the load balancer's certificate must cover `*.{host}` as well as `{host}`"
                ),
            ),
            HttpsMode::Disabled => cx.warn(
                field,
                "users' hosts are served over plain HTTP: origins are apart, but cookies and tokens travel unencrypted",
                "serve the hub over HTTPS with a wildcard certificate",
            ),
            HttpsMode::Letsencrypt => {}
        }
    }
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        if v.extra_config_mentions("subdomain_host") {
            return ReadBack::CannotVerify {
                reason: "`hub.extraConfig` sets `subdomain_host` in Python".into(),
            };
        }
        ReadBack::Setting(
            match hub_config(v, "subdomain_host").and_then(Value::as_str) {
                Some(h) if !h.trim().is_empty() => user_origin::PER_USER.with(h.to_string()),
                _ => user_origin::SHARED.selected(),
            },
        )
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        p.spec.browser.origin = if got.is(&user_origin::PER_USER) {
            UserOrigin::PerUser
        } else {
            UserOrigin::Shared
        };
        Vec::new()
    }
}

pub(crate) mod cookies {
    use super::Setting;

    pub static HOST_PREFIXED: Setting = Setting {
        name: "host-prefixed",
        rank: 0,
        summary: "`__Host-` cookies: bound to the exact host, sent over HTTPS only, and out of reach of cookies another \
                  host under the same domain sets",
    };
    pub static PLAIN: Setting = Setting {
        name: "plain",
        rank: 1,
        summary: "JupyterHub's plain cookie names, scoped by path (chart default)",
    };
    pub static SHARED_HOST: Setting = Setting {
        name: "host-prefixed-shared-origin",
        rank: 2,
        summary: "`__Host-` cookies on a shared origin: set on path `/`, so every user's server receives the hub cookies \
                  of whoever visits it",
    };
}

static COOKIES_DEF: ControlDef = ControlDef {
    id: "host-cookies",
    title: "Host-prefixed cookies",
    field: "/spec/browser/cookies",
    rationale: "With a host per user, a user's server can set cookies for the hub's whole domain and plant its own login \
        on a victim (cookie tossing). The `__Host-` prefix makes browsers refuse such cookies. It also moves every cookie \
        to path `/`: on a shared origin every user's server would then receive the visitor's hub cookies, so the prefix \
        belongs only with `origin: per-user`, and it needs HTTPS.",
    settings: &[
        &cookies::HOST_PREFIXED,
        &cookies::PLAIN,
        &cookies::SHARED_HOST,
    ],
    values_keys: &["hub.config.JupyterHub.cookie_host_prefix_enabled"],
    read_only_keys: &[],
    spawner_traits: &[],
};

/// The prefix the policy asks for, `auto` resolved from the origin.
fn prefixed(p: &Policy) -> bool {
    match p.spec.browser.cookies {
        CookiePrefix::Auto => p.spec.browser.origin == UserOrigin::PerUser,
        CookiePrefix::HostPrefixed => true,
        CookiePrefix::Plain => false,
    }
}

impl Control for CookiesControl {
    fn def(&self) -> &'static ControlDef {
        &COOKIES_DEF
    }
    fn admission_gap(&self) -> Option<&'static str> {
        Some("cookie names are JupyterHub's configuration, not a pod's")
    }
    fn found_only(&self) -> &'static [&'static Setting] {
        static FOUND: [&Setting; 1] = [&cookies::SHARED_HOST];
        &FOUND
    }
    fn selected(&self, p: &Policy) -> Selected {
        let s = if prefixed(p) {
            &cookies::HOST_PREFIXED
        } else {
            &cookies::PLAIN
        };
        match p.spec.browser.cookies {
            CookiePrefix::Auto => s.with("auto"),
            _ => s.selected(),
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let on = prefixed(p);
        if on && p.spec.browser.origin != UserOrigin::PerUser {
            cx.error(
                COOKIES_DEF.field,
                "`__Host-` cookies are set on path `/`: on a shared origin every user's server would receive the hub cookies \
                 of whoever visits it",
                "set `browser.origin: per-user`, or `browser.cookies: auto`",
            );
            return;
        }
        if on && p.spec.https.mode == HttpsMode::Disabled {
            cx.error(
                COOKIES_DEF.field,
                "browsers accept `__Host-` cookies only over HTTPS, and `https.mode: disabled` serves plain HTTP",
                "serve the hub over HTTPS, or set `browser.cookies: plain`",
            );
            return;
        }
        if !on {
            // JupyterHub's default; nothing to write.
            return;
        }
        cx.set(
            &["hub", "config", "JupyterHub", "cookie_host_prefix_enabled"],
            json!(true),
        );
        if p.spec.https.mode == HttpsMode::Offload {
            cx.note(
                COOKIES_DEF.field,
                "JupyterHub marks cookies Secure when the request reached the load balancer over HTTPS: the load balancer \
                 must send `X-Forwarded-Proto: https`",
            );
        }
    }
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        if v.extra_config_mentions("cookie_host_prefix") {
            return ReadBack::CannotVerify {
                reason: "`hub.extraConfig` sets `cookie_host_prefix_enabled` in Python".into(),
            };
        }
        let on = hub_config(v, "cookie_host_prefix_enabled") == Some(&Value::Bool(true));
        let per_user = matches!(
            OriginControl.read_back(v),
            ReadBack::Setting(s) if s.is(&user_origin::PER_USER)
        );
        ReadBack::Setting(match (on, per_user) {
            (true, true) => cookies::HOST_PREFIXED.selected(),
            (true, false) => cookies::SHARED_HOST.with("no `subdomain_host`"),
            (false, _) => cookies::PLAIN.selected(),
        })
    }
    fn remedy(&self, p: &Policy, _: &ValuesView) -> Option<Value> {
        // The policy's own output leaves JupyterHub's default alone, which
        // does not undo a `true` from the deployment's values.
        (!prefixed(p)).then(
            || json!({"hub": {"config": {"JupyterHub": {"cookie_host_prefix_enabled": false}}}}),
        )
    }
    fn judge(&self, v: &ValuesView) -> super::Judgement {
        let mut j = super::Judgement::plain(self.read_back(v));
        // Other users' servers receive the hub cookies: high, like any
        // reach into another user's session.
        j.exposes = matches!(&j.read_back, ReadBack::Setting(s) if s.is(&cookies::SHARED_HOST));
        j
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        if got.is(&cookies::SHARED_HOST) {
            p.spec.browser.cookies = CookiePrefix::Plain;
            return vec![
                "`__Host-` cookies on a shared origin cannot be stated (they would reach every user's server); the proposal \
                 says `cookies: plain`"
                    .into(),
            ];
        }
        p.spec.browser.cookies = if got.is(&cookies::HOST_PREFIXED) {
            CookiePrefix::HostPrefixed
        } else {
            CookiePrefix::Plain
        };
        Vec::new()
    }
}

pub(crate) mod url_tokens {
    use super::Setting;

    pub static REFUSED: Setting = Setting {
        name: "refused",
        rank: 0,
        summary: "users' servers ignore `?token=` in page URLs (websockets excepted): a leaked link logs nobody in",
    };
    pub static ALLOWED: Setting = Setting {
        name: "allowed",
        rank: 1,
        summary: "a URL with `?token=` logs its holder into the server: links in chats, proxy logs and browser history \
                  carry a session",
    };
}

static URL_TOKENS_DEF: ControlDef = ControlDef {
    id: "url-tokens",
    title: "API tokens in URLs",
    field: "/spec/browser/urlTokens",
    rationale: "A token in a URL ends up in browser history, proxy and server logs and in links users paste to each other; \
        a server that accepts it opens a session to whoever holds the link, and a crafted link can log a victim into an \
        attacker's server. JupyterHub 5 refuses such tokens by default; the JupyterHub 4.1 in chart 3.x user images \
        accepts them unless `JUPYTERHUB_ALLOW_TOKEN_IN_URL` is `0`.",
    settings: &[&url_tokens::REFUSED, &url_tokens::ALLOWED],
    values_keys: &["singleuser.extraEnv.JUPYTERHUB_ALLOW_TOKEN_IN_URL"],
    read_only_keys: &[],
    spawner_traits: &["environment"],
};

/// How a read-back names the chart image's own default.
const CHART_DEFAULT: &str = "default of the chart's user image";

/// The server's variable, read by `jupyterhub-singleuser`.
const VAR: &str = "JUPYTERHUB_ALLOW_TOKEN_IN_URL";

/// The chart's own user image, whose JupyterHub the chart line knows.
fn chart_image(image: &str) -> bool {
    let name = image.split([':', '@']).next().unwrap_or_default();
    name.ends_with("jupyterhub/k8s-singleuser-sample")
}

/// The setting the chart's own image runs with when nothing sets `VAR`.
fn chart_default(line: ChartLine) -> &'static Setting {
    match line {
        ChartLine::V3 => &url_tokens::ALLOWED,
        ChartLine::V4 => &url_tokens::REFUSED,
    }
}

/// Whether tokens in URLs are accepted by the pod's server.
fn grade(pod: &Pod, line: ChartLine) -> Verdict {
    const ENV: &str = "/spec/containers/0/env";
    if let Some(u) = unknown(pod, ENV) {
        return u;
    }
    let entry = pod
        .json
        .pointer(ENV)
        .and_then(Value::as_array)
        .and_then(|e| {
            e.iter()
                .enumerate()
                .find(|(_, x)| x.get("name").and_then(Value::as_str) == Some(VAR))
        });
    if let Some((i, item)) = entry {
        let by = origin(pod, &format!("{ENV}/{i}"));
        let Some(value) = item.get("value").and_then(Value::as_str) else {
            return Verdict::Unknown {
                reason: format!("`{VAR}` comes from a Secret or ConfigMap"),
                by: by.unwrap_or_else(|| crate::effective::Origin::default(VAR.to_string())),
            };
        };
        // jupyterhub's `_bool_env`: empty is the default, `0`/`false` off.
        if !value.is_empty() {
            let off = matches!(value.to_ascii_lowercase().as_str(), "0" | "false");
            let s = if off {
                &url_tokens::REFUSED
            } else {
                &url_tokens::ALLOWED
            };
            return Verdict::found(pod, s, Some(format!("{VAR}={value}")), by);
        }
    }
    let image = pod
        .json
        .pointer("/spec/containers/0/image")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let image_origin = origin(pod, "/spec/containers/0/image");
    if image.is_empty() || chart_image(image) {
        return Verdict::found(
            pod,
            chart_default(line),
            Some(CHART_DEFAULT.into()),
            image_origin,
        );
    }
    Verdict::Unknown {
        reason: format!(
            "`{VAR}` is not set, and the default depends on the JupyterHub version inside `{image}` (accepted before 5)"
        ),
        by: image_origin
            .unwrap_or_else(|| crate::effective::Origin::default("the user image".to_string())),
    }
}

impl Control for UrlTokensControl {
    fn def(&self) -> &'static ControlDef {
        &URL_TOKENS_DEF
    }
    fn selected(&self, p: &Policy) -> Selected {
        match p.spec.browser.url_tokens {
            UrlTokens::Refused => url_tokens::REFUSED.selected(),
            UrlTokens::Allowed => url_tokens::ALLOWED.selected(),
            UrlTokens::ChartDefault => chart_default(ChartLine::of(&p.chart)).with("chart default"),
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let path = ["singleuser", "extraEnv", VAR];
        match p.spec.browser.url_tokens {
            UrlTokens::Refused => cx.set(&path, json!("0")),
            UrlTokens::Allowed => {
                cx.set(&path, json!("1"));
                cx.warn(
                    URL_TOKENS_DEF.field,
                    "users' servers accept `?token=` in URLs: whoever holds such a link is logged in",
                    "set `browser.urlTokens: refused`; share servers with JupyterHub's sharing or roles instead",
                );
            }
            UrlTokens::ChartDefault => {}
        }
    }
    fn judge(&self, v: &ValuesView) -> super::Judgement {
        let line = v.chart;
        v.judge_pods(&URL_TOKENS_DEF, |pod: &Pod, _: &Network| grade(pod, line))
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        p.spec.browser.url_tokens = if got
            .detail
            .as_deref()
            .is_some_and(|d| d.starts_with(CHART_DEFAULT))
        {
            UrlTokens::ChartDefault
        } else if got.is(&url_tokens::REFUSED) {
            UrlTokens::Refused
        } else {
            UrlTokens::Allowed
        };
        Vec::new()
    }
}

//! The `gateway` setting of the `https` control: TLS ends at a Gateway API
//! listener and the chart's HTTPRoute (`httpRoute`, chart 4.3.0 and later)
//! sends the hub's hosts to `proxy-public`. Kept beside `https.rs`, which
//! holds the definition.

use serde_json::{Value, json};

use super::https::{DEF, DISABLED, GATEWAY, PTR};
use super::{ReadBack, ValuesView};
use crate::controls::lowering::Lowering;
use crate::policy::{GatewayRef, Host, HttpsMode, Policy};
use crate::values::get_strs;

pub(super) fn lower(p: &Policy, cx: &mut Lowering) {
    let h = &p.spec.https;
    let hosts: Vec<&str> = h.hosts.iter().map(|x| x.0.as_str()).collect();
    let Some(gw) = &h.gateway else {
        cx.error(
            DEF.field,
            "`https.mode: gateway` needs `spec.https.gateway.name`",
            "name the Gateway whose HTTPS listener serves the hub's hosts",
        );
        return;
    };
    if hosts.is_empty() {
        cx.error(
            DEF.field,
            "`https.mode: gateway` needs `spec.https.hosts`",
            "a route without hostnames takes every name the Gateway's listeners accept; list the hub's public DNS names",
        );
        return;
    }
    let mut gateway = serde_json::Map::new();
    gateway.insert("name".into(), json!(gw.name));
    if let Some(ns) = &gw.namespace {
        gateway.insert("namespace".into(), json!(ns));
    }
    if let Some(section) = &gw.section_name {
        gateway.insert("sectionName".into(), json!(section));
    }
    let route = json!({"enabled": true, "hostnames": hosts, "gateway": gateway});
    if let Some(release) = cx.release {
        // The route itself, then the listener choice (`sectionName`), each
        // from the release that brought it.
        let path: Vec<String> = vec!["httpRoute".into()];
        let mut bare = route.clone();
        if let Some(g) = bare["gateway"].as_object_mut() {
            g.remove("sectionName");
        }
        let since = |v: &Value| {
            crate::chart::keys::nearest_accepting(release.number(), &path, v).map_or_else(
                || "a newer release".to_string(),
                |r| format!("chart {}", r.version),
            )
        };
        let refused = if !crate::chart::keys::accepts(release, &path, &bare) {
            Some(format!(
                "chart {} has no `httpRoute`: the chart makes no HTTPRoute before {}",
                release.version,
                since(&bare)
            ))
        } else if !crate::chart::keys::accepts(release, &path, &route) {
            Some(format!(
                "chart {} cannot attach its HTTPRoute to one listener: `httpRoute.gateway.sectionName` came with {}",
                release.version,
                since(&route)
            ))
        } else {
            None
        };
        if let Some(msg) = refused {
            cx.error(
                DEF.field,
                msg,
                format!(
                    "upgrade to {}, or use `https.mode: ingress` (an Ingress the chart makes) or `secret`",
                    since(&route)
                ),
            );
            return;
        }
    }
    cx.set(&["proxy", "https", "enabled"], json!(false));
    cx.set_at(&format!("{PTR}/gateway"), &["httpRoute"], route);
    // Only the Gateway may reach the proxy: a LoadBalancer `proxy-public`
    // would publish plain HTTP beside it.
    cx.set(&["proxy", "service", "type"], json!("ClusterIP"));
    if gw.section_name.is_none() {
        cx.warn(
            &format!("{PTR}/gateway"),
            "without `sectionName` the route attaches to every listener of the Gateway that accepts the hosts, a plain HTTP \
             listener (port 80, for redirects) included: the hub would be served unencrypted there",
            "name the HTTPS listener in `https.gateway.sectionName`",
        );
    }
    cx.note(
        &format!("{PTR}/gateway"),
        format!(
            "TLS ends at Gateway `{}`: its listener needs `protocol: HTTPS` with a certificate for the hosts, and must allow \
             routes from namespace `{}` (`allowedRoutes`); pass the Gateway to `check --manifests` to verify it",
            gw.name, p.metadata.namespace
        ),
    );
}

/// Whether the values' HTTPRoute is what serves the hub (the proxy's own
/// TLS off, no Ingress, `proxy-public` not published).
pub(super) fn decides(v: &ValuesView) -> bool {
    v.bool(&["httpRoute", "enabled"]) == Some(true)
        && v.bool(&["proxy", "https", "enabled"]) != Some(true)
        && v.bool(&["ingress", "enabled"]) != Some(true)
        && matches!(v.str(&["proxy", "service", "type"]), Some("ClusterIP"))
}

/// Whether a listener's `hostname` (absent: every name) takes `host`.
fn takes(listener: &Value, host: &str) -> bool {
    match listener.get("hostname").and_then(Value::as_str) {
        None => true,
        Some(h) => match h.strip_prefix("*.") {
            Some(domain) => host
                .strip_suffix(domain)
                .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1),
            None => h.eq_ignore_ascii_case(host),
        },
    }
}

/// The Gateway the values' HTTPRoute attaches to, read from the manifests:
/// the setting its listeners give the hub's hosts.
pub(super) fn read_back(v: &ValuesView) -> ReadBack {
    let name = v.str(&["httpRoute", "gateway", "name"]).unwrap_or_default();
    let section = v.str(&["httpRoute", "gateway", "sectionName"]);
    let hosts = get_strs(v.values, &["httpRoute", "hostnames"]);
    let Some(gateway) = v.manifests.unwrap_or_default().iter().find(|m| {
        m.get("kind").and_then(Value::as_str) == Some("Gateway")
            && m.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
    }) else {
        return ReadBack::CannotVerify {
            reason: format!(
                "TLS is configured on Gateway `{name}`, which the HTTPRoute attaches to; pass it with `--manifests` to verify it"
            ),
        };
    };
    let listeners: Vec<&Value> = gateway
        .pointer("/spec/listeners")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|l| section.is_none_or(|s| l.get("name").and_then(Value::as_str) == Some(s)))
        .filter(|l| hosts.is_empty() || hosts.iter().any(|h| takes(l, h)))
        .collect();
    if listeners.is_empty() {
        return ReadBack::Setting(DISABLED.with(format!(
            "Gateway `{name}` has no listener that takes the route's hosts{}",
            section.map(|s| format!(" named `{s}`")).unwrap_or_default()
        )));
    }
    for l in &listeners {
        let protocol = l
            .get("protocol")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let terminates = match protocol {
            "HTTPS" => true,
            "TLS" => l.pointer("/tls/mode").and_then(Value::as_str) == Some("Terminate"),
            _ => false,
        };
        if !terminates {
            let lname = l.get("name").and_then(Value::as_str).unwrap_or("?");
            return ReadBack::Setting(DISABLED.with(format!(
                "Gateway `{name}` listener `{lname}` serves the hub over {}",
                if protocol.is_empty() {
                    "an unknown protocol"
                } else {
                    protocol
                }
            )));
        }
    }
    ReadBack::Setting(GATEWAY.with(format!("Gateway `{name}`")))
}

/// `init`: the Gateway settings from existing values.
pub(super) fn propose(v: &ValuesView, h: &mut crate::policy::Https) -> HttpsMode {
    use crate::validate::formats::{hostname, k8s_name, k8s_subdomain};
    h.hosts = get_strs(v.values, &["httpRoute", "hostnames"])
        .into_iter()
        .filter(|s| hostname(s).is_ok())
        .map(|s| Host(s.to_string()))
        .collect();
    let field = |k: &str| v.str(&["httpRoute", "gateway", k]).map(str::to_string);
    h.gateway = field("name")
        .filter(|n| k8s_subdomain(n).is_ok())
        .map(|name| GatewayRef {
            name,
            namespace: field("namespace").filter(|n| !n.is_empty() && k8s_name(n).is_ok()),
            section_name: field("sectionName").filter(|n| k8s_subdomain(n).is_ok()),
        });
    HttpsMode::Gateway
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::ChartLine;

    fn read(values: Value, manifests: &[Value]) -> ReadBack {
        read_back(&ValuesView {
            values: &values,
            defaults: &Value::Null,
            manifests: Some(manifests),
            chart: ChartLine::V4,
            more: Default::default(),
        })
    }

    fn route(section: Option<&str>) -> Value {
        let mut gw = json!({"name": "public"});
        if let Some(s) = section {
            gw["sectionName"] = json!(s);
        }
        json!({"httpRoute": {"enabled": true, "hostnames": ["hub.example.org"], "gateway": gw}})
    }

    fn gateway() -> Value {
        json!({"kind": "Gateway", "metadata": {"name": "public"}, "spec": {"listeners": [
            {"name": "http", "protocol": "HTTP", "port": 80},
            {"name": "https", "protocol": "HTTPS", "port": 443, "hostname": "*.example.org"},
        ]}})
    }

    #[test]
    fn the_listeners_the_route_attaches_to_decide() {
        let got = |r: ReadBack| match r {
            ReadBack::Setting(s) => (s.setting.name, s.detail.unwrap_or_default()),
            ReadBack::CannotVerify { reason } => ("cannot-verify", reason),
        };
        assert_eq!(got(read(route(Some("https")), &[gateway()])).0, "gateway");
        let (s, why) = got(read(route(None), &[gateway()]));
        assert_eq!(s, "disabled");
        assert!(why.contains("listener `http`"), "{why}");
        assert_eq!(got(read(route(Some("http")), &[gateway()])).0, "disabled");
        assert_eq!(got(read(route(Some("https")), &[])).0, "cannot-verify");
        // A wildcard listener takes one label, not the bare domain.
        let mut r = route(Some("https"));
        r["httpRoute"]["hostnames"] = json!(["example.org"]);
        assert_eq!(got(read(r, &[gateway()])).0, "disabled");
    }
}

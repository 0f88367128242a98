//! The `ingress` setting of the `https` control, and the read-back of hubs
//! whose proxy serves plain HTTP behind something else (an Ingress, a
//! Gateway). Kept beside `https.rs`, which holds the definition.

use serde_json::{Value, json};

use super::ValuesView;
use super::https::{DEF, DISABLED, INGRESS, PTR};
use crate::controls::lowering::Lowering;
use crate::policy::{Host, HttpsMode, IngressTls, Policy};
use crate::values::get_strs;

/// Service types that publish `proxy-public` outside the cluster (unset is
/// the chart's default, `LoadBalancer`, in every supported version).
fn exposed(service_type: Option<&str>) -> bool {
    matches!(
        service_type.unwrap_or("LoadBalancer"),
        "LoadBalancer" | "NodePort"
    )
}

pub(super) fn lower(p: &Policy, cx: &mut Lowering) {
    let h = &p.spec.https;
    let mut hosts: Vec<String> = h.hosts.iter().map(|x| x.0.clone()).collect();
    if hosts.is_empty() {
        cx.error(
            DEF.field,
            "`https.mode: ingress` needs `spec.https.hosts`",
            "an Ingress without hosts answers for any name and has no certificate to match; list the hub's public DNS names",
        );
    }
    let Some(secret) = &h.secret_name else {
        cx.error(
            DEF.field,
            "`https.mode: ingress` needs `spec.https.secretName`",
            "name the TLS Secret the Ingress serves; cert-manager creates it when the Ingress has its annotations",
        );
        return;
    };
    if hosts.is_empty() {
        return;
    }
    // With a host per user the Ingress answers for each user's host too.
    if p.spec.browser.origin == crate::policy::UserOrigin::PerUser {
        let wildcard = format!("*.{}", hosts[0]);
        hosts.push(wildcard);
    }
    // The chart's own TLS stays off: the Ingress terminates it.
    cx.set(&["proxy", "https", "enabled"], json!(false));
    cx.set(&["ingress", "enabled"], json!(true));
    cx.set_at(&format!("{PTR}/hosts"), &["ingress", "hosts"], json!(hosts));
    cx.set_at(
        &format!("{PTR}/secretName"),
        &["ingress", "tls"],
        json!([{"hosts": hosts, "secretName": secret}]),
    );
    // A LoadBalancer `proxy-public` (the chart's default) would publish plain
    // HTTP beside the Ingress.
    cx.set(&["proxy", "service", "type"], json!("ClusterIP"));
    if let Some(ing) = &h.ingress {
        if let Some(class) = &ing.class_name {
            cx.set_at(
                &format!("{PTR}/ingress/className"),
                &["ingress", "ingressClassName"],
                json!(class),
            );
        }
        if !ing.annotations.is_empty() {
            cx.set_at(
                &format!("{PTR}/ingress/annotations"),
                &["ingress", "annotations"],
                json!(ing.annotations),
            );
        }
    }
    cx.note(
        DEF.field,
        "TLS ends at the ingress controller, which forwards plain HTTP to `proxy-public` inside the cluster (as autohttps does); `proxy-public` becomes a ClusterIP Service, reachable only through the Ingress",
    );
    cx.note(
        &format!("{PTR}/secretName"),
        format!(
            "the TLS Secret `{secret}` must exist in namespace `{}`, or be issued for the Ingress (cert-manager: a `cert-manager.io/cluster-issuer` annotation in `https.ingress.annotations`)",
            p.metadata.namespace
        ),
    );
}

/// The proxy's own TLS is off: an Ingress with TLS (and no other way in),
/// a Gateway (configured outside the values), or plain HTTP.
pub(super) fn read_back(v: &ValuesView) -> super::ReadBack {
    use super::ReadBack;
    let service_type = v.str(&["proxy", "service", "type"]);
    if v.bool(&["ingress", "enabled"]) == Some(true) {
        let hosts = get_strs(v.values, &["ingress", "hosts"]);
        let tls = v.get(&["ingress", "tls"]).and_then(Value::as_array);
        let covered = |host: &str| {
            tls.into_iter().flatten().any(|t| {
                t.get("secretName")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
                    && get_strs(t, &["hosts"]).contains(&host)
            })
        };
        let got = if hosts.is_empty() {
            DISABLED.with("the Ingress has no hosts, so no certificate applies")
        } else if let Some(bare) = hosts.iter().find(|h| !covered(h)) {
            DISABLED.with(
                format!(
                    "the Ingress serves `{bare}` without TLS (no `ingress.tls` entry with a secretName lists it)"
                ),
            )
        } else if exposed(service_type) {
            DISABLED.with(format!(
                "`proxy-public` is a {} Service: plain HTTP is published beside the TLS Ingress",
                service_type.unwrap_or("LoadBalancer")
            ))
        } else {
            INGRESS.selected()
        };
        return ReadBack::Setting(got);
    }
    if v.bool(&["httpRoute", "enabled"]) == Some(true) && !exposed(service_type) {
        return super::https_gateway::read_back(v);
    }
    // Not exposed by the chart at all: whatever serves the hub (an
    // ingress controller's own route objects, a mesh gateway) lives
    // outside the values.
    if matches!(service_type, Some("ClusterIP")) {
        return ReadBack::CannotVerify {
            reason: "`proxy-public` is ClusterIP and the chart makes no Ingress: TLS, if any, is terminated by objects outside the chart's values".into(),
        };
    }
    ReadBack::Setting(DISABLED.selected())
}

/// `init`: the Ingress settings from existing values.
pub(super) fn propose(
    v: &ValuesView,
    h: &mut crate::policy::Https,
    lost: &mut Vec<String>,
) -> HttpsMode {
    use crate::validate::formats::{hostname, k8s_subdomain, qualified_name};
    h.hosts = get_strs(v.values, &["ingress", "hosts"])
        .into_iter()
        .filter(|s| hostname(s).is_ok())
        .map(|s| Host(s.to_string()))
        .collect();
    h.secret_name = v
        .get(&["ingress", "tls"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("secretName").and_then(Value::as_str))
        .find(|n| k8s_subdomain(n).is_ok())
        .map(str::to_string);
    if v.get(&["ingress", "tls"])
        .and_then(Value::as_array)
        .is_some_and(|t| t.len() > 1)
    {
        lost.push("`ingress.tls` has several entries; `https.mode: ingress` serves one Secret for all hosts, the first valid one was kept".into());
    }
    let class_name = v
        .str(&["ingress", "ingressClassName"])
        .filter(|c| k8s_subdomain(c).is_ok())
        .map(str::to_string);
    let annotations = v
        .get(&["ingress", "annotations"])
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(k, _)| qualified_name(k).is_ok())
        .filter_map(|(k, val)| Some((k.clone(), val.as_str()?.to_string())))
        .collect::<indexmap::IndexMap<_, _>>();
    h.ingress = (class_name.is_some() || !annotations.is_empty()).then_some(IngressTls {
        class_name,
        annotations,
    });
    HttpsMode::Ingress
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::ChartLine;
    use crate::controls::ReadBack;

    fn read(values: Value) -> ReadBack {
        read_back(&ValuesView {
            values: &values,
            defaults: &Value::Null,
            manifests: None,
            chart: ChartLine::V4,
            more: Default::default(),
        })
    }

    fn ingress(tls: Value, service: Option<&str>) -> Value {
        let mut v = json!({"ingress": {"enabled": true, "hosts": ["a.example.org", "b.example.org"], "tls": tls}});
        if let Some(t) = service {
            v["proxy"] = json!({"service": {"type": t}});
        }
        v
    }

    fn setting(r: ReadBack) -> (&'static str, Option<String>) {
        match r {
            ReadBack::Setting(s) => (s.setting.name, s.detail),
            ReadBack::CannotVerify { reason } => panic!("cannot verify: {reason}"),
        }
    }

    #[test]
    fn an_ingress_with_tls_for_every_host_and_an_internal_service_is_ingress() {
        let tls = json!([{"hosts": ["a.example.org"], "secretName": "a"}, {"hosts": ["b.example.org"], "secretName": "b"}]);
        assert_eq!(
            setting(read(ingress(tls, Some("ClusterIP")))),
            ("ingress", None)
        );
    }

    #[test]
    fn plain_http_beside_the_ingress_is_disabled() {
        let all = json!([{"hosts": ["a.example.org", "b.example.org"], "secretName": "t"}]);
        // The chart's default Service type publishes port 80 on a load balancer.
        for service in [None, Some("LoadBalancer"), Some("NodePort")] {
            let (name, detail) = setting(read(ingress(all.clone(), service)));
            assert_eq!(name, "disabled", "{service:?}");
            assert!(detail.unwrap().contains("plain HTTP is published"));
        }
        let partial = json!([{"hosts": ["a.example.org"], "secretName": "t"}]);
        let (name, detail) = setting(read(ingress(partial, Some("ClusterIP"))));
        assert_eq!(name, "disabled");
        assert!(detail.unwrap().contains("`b.example.org` without TLS"));
        let no_secret = json!([{"hosts": ["a.example.org", "b.example.org"]}]);
        assert_eq!(
            setting(read(ingress(no_secret, Some("ClusterIP")))).0,
            "disabled"
        );
    }

    #[test]
    fn a_gateway_cannot_be_verified_from_values_and_nothing_is_plain_http() {
        let route =
            json!({"httpRoute": {"enabled": true}, "proxy": {"service": {"type": "ClusterIP"}}});
        assert!(matches!(read(route), ReadBack::CannotVerify { .. }));
        assert_eq!(setting(read(json!({}))), ("disabled", None));
    }
}

//! How the hub's public Service, `proxy-public`, is published: inside the
//! cluster only, through a load balancer limited to known client ranges,
//! on every node's addresses, or through a load balancer open to all.

use serde_json::{Value, json};

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::controls::lowering::Lowering;
use crate::plan::Selected;
use crate::policy::{Cidr, HttpsMode, Policy, ServiceExposure};
use crate::validate::formats::{cidr, cidr_contains};

pub struct ExposureControl;

/// How `proxy-public` is published, most closed first.
pub(crate) mod service {
    use super::Setting;

    pub static CLUSTER_IP: Setting = Setting {
        name: "cluster-ip",
        rank: 0,
        summary: "`proxy-public` is a ClusterIP Service: reachable only inside the cluster, through an Ingress, a Gateway route or a tunnel",
    };
    pub static RESTRICTED_LOAD_BALANCER: Setting = Setting {
        name: "restricted-load-balancer",
        rank: 1,
        summary: "a LoadBalancer that accepts only `sourceRanges` (`proxy.service.loadBalancerSourceRanges`)",
    };
    pub static NODE_PORT: Setting = Setting {
        name: "node-port",
        rank: 2,
        summary: "a port on every node's addresses, open to whoever reaches the nodes",
    };
    pub static OPEN_LOAD_BALANCER: Setting = Setting {
        name: "open-load-balancer",
        rank: 3,
        summary: "a LoadBalancer open to every address (chart default)",
    };
}

static DEF: ControlDef = ControlDef {
    id: "exposure",
    title: "Exposure of the hub's public Service",
    field: "/spec/exposure/service",
    rationale: "`proxy-public` carries the login page, the hub API and every user's server. Published to every address, \
        it is found by scanners within minutes and every unpatched flaw or weak password is open to the internet; limited \
        to the ranges users come from, or reachable only through an Ingress, far fewer can try. The price: Let's Encrypt \
        (`https.mode: letsencrypt`) validates from addresses it does not publish, so it needs the Service open to all.",
    settings: &[
        &service::CLUSTER_IP,
        &service::RESTRICTED_LOAD_BALANCER,
        &service::NODE_PORT,
        &service::OPEN_LOAD_BALANCER,
    ],
    values_keys: &[
        "proxy.service.type",
        "proxy.service.loadBalancerSourceRanges",
        "proxy.service.externalIPs",
        "proxy.service.nodePorts",
    ],
    read_only_keys: &["proxy.service.externalIPs"],
    spawner_traits: &[],
};

const PTR: &str = "/spec/exposure";

/// A range that admits every address.
fn everyone(range: &str) -> bool {
    range.trim().ends_with("/0")
}

/// HTTPS modes that reach the proxy through a route object of the chart
/// (an Ingress, an HTTPRoute) and keep `proxy-public` inside the cluster.
fn routed(mode: HttpsMode) -> bool {
    matches!(mode, HttpsMode::Ingress | HttpsMode::Gateway)
}

/// The Service type the policy asks for, `auto` resolved from `https.mode`.
fn service(p: &Policy) -> ServiceExposure {
    match p.spec.exposure.service {
        ServiceExposure::Auto if routed(p.spec.https.mode) => ServiceExposure::ClusterIp,
        ServiceExposure::Auto => ServiceExposure::LoadBalancer,
        other => other,
    }
}

fn ranges(p: &Policy) -> Vec<&str> {
    p.spec
        .exposure
        .source_ranges
        .iter()
        .map(|c| c.0.as_str())
        .collect()
}

impl Control for ExposureControl {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn admission_gap(&self) -> Option<&'static str> {
        Some("how `proxy-public` is published is a Service's, not a pod's")
    }
    fn selected(&self, p: &Policy) -> Selected {
        let auto = p.spec.exposure.service == ServiceExposure::Auto;
        let plain = |s: &'static Setting| {
            if auto { s.with("auto") } else { s.selected() }
        };
        match service(p) {
            ServiceExposure::ClusterIp => plain(&service::CLUSTER_IP),
            ServiceExposure::NodePort => plain(&service::NODE_PORT),
            _ => {
                let r = ranges(p);
                match r.iter().find(|x| everyone(x)) {
                    _ if r.is_empty() => plain(&service::OPEN_LOAD_BALANCER),
                    Some(all) => {
                        service::OPEN_LOAD_BALANCER.with(format!("sourceRanges include {all}"))
                    }
                    None => service::RESTRICTED_LOAD_BALANCER.with(r.join(", ")),
                }
            }
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let e = &p.spec.exposure;
        let https = p.spec.https.mode;
        let svc = service(p);
        if routed(https) && svc != ServiceExposure::ClusterIp {
            cx.error(
                DEF.field,
                "`https.mode: ingress` and `gateway` serve the hub through a route and make `proxy-public` a ClusterIP Service; \
                 `exposure.service` asks to publish it as well",
                "set `exposure.service: cluster-ip` (or `auto`), or choose an HTTPS mode served by the proxy",
            );
            return;
        }
        let r = ranges(p);
        if !r.is_empty() && svc != ServiceExposure::LoadBalancer {
            cx.warn(
                &format!("{PTR}/sourceRanges"),
                "`exposure.sourceRanges` is ignored: the chart sets `loadBalancerSourceRanges` only on a LoadBalancer Service",
                "remove it, or set `exposure.service: load-balancer`",
            );
        }
        let letsencrypt = https == HttpsMode::Letsencrypt;
        match svc {
            ServiceExposure::ClusterIp => {
                cx.set(&["proxy", "service", "type"], json!("ClusterIP"));
                // A ClusterIP Service refuses node ports; none may come from other values files.
                cx.set(&["proxy", "service", "nodePorts", "http"], Value::Null);
                cx.set(&["proxy", "service", "nodePorts", "https"], Value::Null);
                if !routed(https) {
                    cx.note(
                        DEF.field,
                        "`proxy-public` is reachable only inside the cluster: route users to it through an Ingress or a Gateway \
                         you manage (the chart's `httpRoute`, from 4.3.0) or a tunnel",
                    );
                }
                if letsencrypt {
                    cx.warn(
                        DEF.field,
                        "Let's Encrypt must reach autohttps on port 80 of every host name, which a ClusterIP `proxy-public` does not publish",
                        "forward ports 80 and 443 of the public address to `proxy-public`, or use `https.mode: ingress` or `secret`",
                    );
                }
            }
            ServiceExposure::NodePort => {
                cx.set(&["proxy", "service", "type"], json!("NodePort"));
                cx.note(
                    DEF.field,
                    "every node serves the hub on a port of the node-port range (`proxy.service.nodePorts` pins them) to whoever \
                     reaches the node's addresses; keep them behind a firewall or a load balancer of your own",
                );
                if letsencrypt {
                    cx.warn(
                        DEF.field,
                        "Let's Encrypt must reach autohttps on port 80, and a node port is in the range 30000-32767",
                        "forward ports 80 and 443 of the public address to the node ports",
                    );
                }
            }
            _ => {
                let explicit = e.service == ServiceExposure::LoadBalancer;
                if explicit || !r.is_empty() {
                    cx.set(&["proxy", "service", "type"], json!("LoadBalancer"));
                }
                if !r.is_empty() {
                    cx.set_at(
                        &format!("{PTR}/sourceRanges"),
                        &["proxy", "service", "loadBalancerSourceRanges"],
                        json!(r),
                    );
                }
                match r.iter().find(|x| everyone(x)) {
                    Some(all) => cx.warn(
                        &format!("{PTR}/sourceRanges"),
                        format!("`exposure.sourceRanges` includes `{all}`: the load balancer accepts every address"),
                        "list only the ranges your users come from",
                    ),
                    None if r.is_empty() => cx.note(
                        DEF.field,
                        if letsencrypt {
                            "`proxy-public` is a LoadBalancer open to every address, as Let's Encrypt needs: it validates from addresses it \
                             does not publish. With a certificate from elsewhere (`https.mode: secret`) list your users' ranges in `exposure.sourceRanges`"
                        } else {
                            "`proxy-public` is a LoadBalancer open to every address; list your users' ranges in `exposure.sourceRanges` to limit it"
                        },
                    ),
                    None => {
                        cx.note(
                            &format!("{PTR}/sourceRanges"),
                            "the cloud's load balancer enforces `loadBalancerSourceRanges`; the node ports behind it stay open on every \
                             node's address, so keep those unreachable from outside (cloud firewall)",
                        );
                        if letsencrypt {
                            cx.warn(
                                &format!("{PTR}/sourceRanges"),
                                "Let's Encrypt validates on port 80 from addresses it does not publish: with `sourceRanges` certificates \
                                 are neither issued nor renewed unless `acmeServer` is an ACME server inside those ranges",
                                "use `https.mode: secret` with a certificate issued elsewhere (cert-manager with DNS-01), or drop `sourceRanges`",
                            );
                        }
                    }
                }
            }
        }
    }
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        let external: Vec<&str> =
            crate::values::get_strs(v.values, &["proxy", "service", "externalIPs"]);
        let published = |s: &'static Setting, detail: Option<String>| {
            // externalIPs publish the Service's ports on those addresses
            // whatever its type, to every client.
            if !external.is_empty() && s.rank < service::NODE_PORT.rank {
                service::NODE_PORT.with(format!("externalIPs {}", external.join(", ")))
            } else {
                match detail {
                    Some(d) => s.with(d),
                    None => s.selected(),
                }
            }
        };
        ReadBack::Setting(
            match v
                .str(&["proxy", "service", "type"])
                .unwrap_or("LoadBalancer")
            {
                "ClusterIP" => published(&service::CLUSTER_IP, None),
                "ExternalName" => published(
                    &service::CLUSTER_IP,
                    Some("ExternalName: nothing published".into()),
                ),
                "NodePort" => published(&service::NODE_PORT, None),
                "LoadBalancer" => {
                    let r = crate::values::get_strs(
                        v.values,
                        &["proxy", "service", "loadBalancerSourceRanges"],
                    );
                    match r.iter().find(|x| everyone(x)) {
                        _ if r.is_empty() => {
                            service::OPEN_LOAD_BALANCER.with("no loadBalancerSourceRanges")
                        }
                        Some(all) => service::OPEN_LOAD_BALANCER
                            .with(format!("loadBalancerSourceRanges include {all}")),
                        None => published(&service::RESTRICTED_LOAD_BALANCER, Some(r.join(", "))),
                    }
                }
                other => {
                    return ReadBack::CannotVerify {
                        reason: format!(
                            "`proxy.service.type` is `{other}`, which Kubernetes does not know"
                        ),
                    };
                }
            },
        )
    }
    fn parameters(&self, p: &Policy, v: &ValuesView) -> Vec<String> {
        let want = ranges(p);
        if want.is_empty() || service(p) != ServiceExposure::LoadBalancer {
            return Vec::new();
        }
        crate::values::get_strs(v.values, &["proxy", "service", "loadBalancerSourceRanges"])
            .into_iter()
            .filter(|got| !want.iter().any(|w| cidr_contains(w, got)))
            .map(|got| {
                format!("the load balancer accepts `{got}`, outside the policy's sourceRanges")
            })
            .collect()
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        let e = &mut p.spec.exposure;
        e.source_ranges.clear();
        let ingress = routed(p.spec.https.mode);
        e.service = match got.setting {
            s if std::ptr::eq(s, &service::CLUSTER_IP) && ingress => ServiceExposure::Auto,
            s if std::ptr::eq(s, &service::CLUSTER_IP) => ServiceExposure::ClusterIp,
            s if std::ptr::eq(s, &service::RESTRICTED_LOAD_BALANCER) => {
                e.source_ranges = crate::values::get_strs(
                    v.values,
                    &["proxy", "service", "loadBalancerSourceRanges"],
                )
                .into_iter()
                .filter(|r| cidr(r).is_ok())
                .map(|r| Cidr(r.to_string()))
                .collect();
                ServiceExposure::LoadBalancer
            }
            s if std::ptr::eq(s, &service::NODE_PORT) => ServiceExposure::NodePort,
            _ => ServiceExposure::Auto,
        };
        if got.is(&service::NODE_PORT) && got.detail.is_some() {
            return vec![format!(
                "`proxy-public` is published on {}; the policy language states the Service type, so the proposal says `node-port`",
                got.detail.unwrap_or_default()
            )];
        }
        Vec::new()
    }
}

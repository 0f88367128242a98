//! How the hub's public Service, `proxy-public`, is published: inside the
//! cluster only, through a load balancer limited to known client ranges,
//! on every node's addresses, or through a load balancer open to all.

use serde_json::{Value, json};

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::lower::Lowering;
use crate::plan::Selected;
use crate::policy::{Cidr, HttpsMode, Policy, ServiceExposure};
use crate::validate::formats::{cidr, cidr_contains};

pub struct ExposureControl;

static DEF: ControlDef = ControlDef {
    id: "exposure",
    title: "Exposure of the hub's public Service",
    field: "/spec/exposure/service",
    rationale: "`proxy-public` carries the login page, the hub API and every user's server. Published to every address, \
        it is found by scanners within minutes and every unpatched flaw or weak password is open to the internet; limited \
        to the ranges users come from, or reachable only through an Ingress, far fewer can try. The price: Let's Encrypt \
        (`https.mode: letsencrypt`) validates from addresses it does not publish, so it needs the Service open to all.",
    settings: &[
        Setting {
            name: "cluster-ip",
            rank: 0,
            summary: "`proxy-public` is a ClusterIP Service: reachable only inside the cluster, through an Ingress, a Gateway route or a tunnel",
        },
        Setting {
            name: "restricted-load-balancer",
            rank: 1,
            summary: "a LoadBalancer that accepts only `sourceRanges` (`proxy.service.loadBalancerSourceRanges`)",
        },
        Setting {
            name: "node-port",
            rank: 2,
            summary: "a port on every node's addresses, open to whoever reaches the nodes",
        },
        Setting {
            name: "open-load-balancer",
            rank: 3,
            summary: "a LoadBalancer open to every address (chart default)",
        },
    ],
    values_keys: &[
        "proxy.service.type",
        "proxy.service.loadBalancerSourceRanges",
        "proxy.service.externalIPs",
        "proxy.service.nodePorts",
    ],
    spawner_traits: &[],
};

const PTR: &str = "/spec/exposure";

/// A range that admits every address.
fn everyone(range: &str) -> bool {
    range.trim().ends_with("/0")
}

/// The Service type the policy asks for, `auto` resolved from `https.mode`.
fn service(p: &Policy) -> ServiceExposure {
    match p.spec.exposure.service {
        ServiceExposure::Auto if p.spec.https.mode == HttpsMode::Ingress => {
            ServiceExposure::ClusterIp
        }
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
        let plain = |i: usize| {
            if auto {
                Selected::with(i, "auto")
            } else {
                Selected::of(i)
            }
        };
        match service(p) {
            ServiceExposure::ClusterIp => plain(0),
            ServiceExposure::NodePort => plain(2),
            _ => {
                let r = ranges(p);
                match r.iter().find(|x| everyone(x)) {
                    _ if r.is_empty() => plain(3),
                    Some(all) => Selected::with(3, format!("sourceRanges include {all}")),
                    None => Selected::with(1, r.join(", ")),
                }
            }
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let e = &p.spec.exposure;
        let https = p.spec.https.mode;
        let svc = service(p);
        if https == HttpsMode::Ingress && svc != ServiceExposure::ClusterIp {
            cx.error(
                DEF.field,
                "`https.mode: ingress` serves the hub through the Ingress and makes `proxy-public` a ClusterIP Service; \
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
                if https != HttpsMode::Ingress {
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
        let published = |i: usize, detail: Option<String>| {
            let s = match detail {
                Some(d) => Selected::with(i, d),
                None => Selected::of(i),
            };
            // externalIPs publish the Service's ports on those addresses
            // whatever its type, to every client.
            if !external.is_empty() && i < 2 {
                Selected::with(2, format!("externalIPs {}", external.join(", ")))
            } else {
                s
            }
        };
        ReadBack::Setting(
            match v
                .str(&["proxy", "service", "type"])
                .unwrap_or("LoadBalancer")
            {
                "ClusterIP" => published(0, None),
                "ExternalName" => published(0, Some("ExternalName: nothing published".into())),
                "NodePort" => published(2, None),
                "LoadBalancer" => {
                    let r = crate::values::get_strs(
                        v.values,
                        &["proxy", "service", "loadBalancerSourceRanges"],
                    );
                    match r.iter().find(|x| everyone(x)) {
                        _ if r.is_empty() => Selected::with(3, "no loadBalancerSourceRanges"),
                        Some(all) => {
                            Selected::with(3, format!("loadBalancerSourceRanges include {all}"))
                        }
                        None => published(1, Some(r.join(", "))),
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
        let ingress = p.spec.https.mode == HttpsMode::Ingress;
        e.service = match got.index {
            0 if ingress => ServiceExposure::Auto,
            0 => ServiceExposure::ClusterIp,
            1 => {
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
            2 => ServiceExposure::NodePort,
            _ => ServiceExposure::Auto,
        };
        if got.index == 2 && got.detail.is_some() {
            return vec![format!(
                "`proxy-public` is published on {}; the policy language states the Service type, so the proposal says `node-port`",
                got.detail.unwrap_or_default()
            )];
        }
        Vec::new()
    }
}

//! The chart's four NetworkPolicies: hub, proxy, autohttps and user pods.

use serde_json::json;

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::controls::lowering::Lowering;
use crate::plan::{Group, Selected};
use crate::policy::Policy;

pub struct NetworkPolicyControl;

static ALL: Setting = Setting {
    name: "all",
    rank: 0,
    summary: "all four policies enabled, plus a deny-all policy for the chart pods that never use the network (user placeholders, image pullers)",
};
static PARTIAL: Setting = Setting {
    name: "partial",
    rank: 1,
    summary: "some policies disabled",
};
static NONE: Setting = Setting {
    name: "none",
    rank: 2,
    summary: "no NetworkPolicies",
};

static DEF: ControlDef = ControlDef {
    id: "network-policy",
    title: "NetworkPolicies for the hub, proxy, autohttps and user pods",
    field: "/spec/networkPolicy",
    rationale: "NetworkPolicies limit who can talk to each component; without them a user server can reach the hub API, \
        other users' servers and everything in the cluster.",
    settings: &[&ALL, &PARTIAL, &NONE],
    values_keys: &[
        "hub.networkPolicy.enabled",
        "proxy.chp.networkPolicy.enabled",
        "proxy.traefik.networkPolicy.enabled",
        "singleuser.networkPolicy.enabled",
    ],
    read_only_keys: &[],
    spawner_traits: &[],
};

const COMPONENTS: &[(&str, &[&str])] = &[
    ("hub", &["hub", "networkPolicy", "enabled"]),
    ("proxy", &["proxy", "chp", "networkPolicy", "enabled"]),
    (
        "autohttps",
        &["proxy", "traefik", "networkPolicy", "enabled"],
    ),
    ("singleuser", &["singleuser", "networkPolicy", "enabled"]),
];

fn classify(disabled: Vec<&str>) -> Selected {
    match disabled.len() {
        0 => ALL.selected(),
        4 => NONE.selected(),
        _ => PARTIAL.with(format!("disabled: {}", disabled.join(", "))),
    }
}

impl Control for NetworkPolicyControl {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn admission_gap(&self) -> Option<&'static str> {
        Some("NetworkPolicies are objects of their own, not part of the pod spec")
    }
    fn selected(&self, p: &Policy) -> Selected {
        let n = &p.spec.network_policy;
        let flags = [n.hub, n.proxy, n.autohttps, n.singleuser];
        classify(
            COMPONENTS
                .iter()
                .zip(flags)
                .filter(|(_, on)| !on)
                .map(|((name, _), _)| *name)
                .collect(),
        )
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let n = &p.spec.network_policy;
        let flags = [n.hub, n.proxy, n.autohttps, n.singleuser];
        for ((name, path), on) in COMPONENTS.iter().zip(flags) {
            cx.set_at(&format!("/spec/networkPolicy/{name}"), path, json!(on));
            if !on {
                cx.warn(
                    &format!("/spec/networkPolicy/{name}"),
                    format!("the {name} NetworkPolicy is disabled"),
                    format!("any pod in the cluster can connect to the {name} pods"),
                );
            }
        }
        if flags.iter().all(|f| *f) {
            let ctx = json!({"hub": p.metadata.name, "namespace": p.metadata.namespace});
            cx.manifest(Group::Network, "chart-pods-deny-all.yaml", ctx);
        }
        if flags.iter().any(|f| *f) {
            cx.note(DEF.field, "NetworkPolicies take effect only where the cluster's CNI enforces them (Calico, Cilium, …); elsewhere they are silently ignored. The chart's rules and the `http-https` egress profile are IPv4-only: on dual-stack clusters list the IPv6 destinations user pods need in `egress.allow`");
        }
    }
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        ReadBack::Setting(classify(
            COMPONENTS
                .iter()
                .filter(|(_, path)| v.bool(path) == Some(false))
                .map(|(n, _)| *n)
                .collect(),
        ))
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let on = |i: usize| v.bool(COMPONENTS[i].1) != Some(false);
        p.spec.network_policy = crate::policy::NetworkPolicies {
            hub: on(0),
            proxy: on(1),
            autohttps: on(2),
            singleuser: on(3),
        };
        Vec::new()
    }
}

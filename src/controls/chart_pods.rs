//! The chart's own pods: hub, proxy, autohttps, user scheduler and
//! placeholders, image pullers.

use serde_json::{Value, json};

use super::pod_security::PssReason;
use super::{Control, ControlDef, ReadBack, ValuesView};
use crate::admission::Validation;
use crate::admission::cel::{Lists, every_container};
use crate::controls::lowering::Lowering;
use crate::plan::Selected;
use crate::policy::{ChartHardening, ChartResources, Policy, Profile};

/// Every container security context the chart exposes, and the pod-level
/// one for the hub (the others take pod settings through their containers).
pub const CONTAINER_CONTEXTS: &[&[&str]] = &[
    &["hub", "containerSecurityContext"],
    &["proxy", "chp", "containerSecurityContext"],
    &["proxy", "traefik", "containerSecurityContext"],
    &["proxy", "secretSync", "containerSecurityContext"],
    &["scheduling", "userScheduler", "containerSecurityContext"],
    &["scheduling", "userPlaceholder", "containerSecurityContext"],
    &["prePuller", "containerSecurityContext"],
    &["prePuller", "hook", "containerSecurityContext"],
    &["prePuller", "pause", "containerSecurityContext"],
];
const HUB_POD_CONTEXT: &[&str] = &["hub", "podSecurityContext"];
/// `extraPodSpec` keys of chart pods without a pod security context of their own.
const POD_SPECS: &[&[&str]] = &[
    &["proxy", "chp", "extraPodSpec"],
    &["proxy", "traefik", "extraPodSpec"],
    &["scheduling", "userScheduler", "extraPodSpec"],
    &["scheduling", "userPlaceholder", "extraPodSpec"],
];
/// Pod-annotation keys of chart pods, with the container each pod runs.
const PRE_130_ANNOTATIONS: &[(&[&str], &str)] = &[
    (&["hub", "annotations"], "hub"),
    (&["proxy", "annotations"], "chp"),
    (
        &["scheduling", "userScheduler", "annotations"],
        "kube-scheduler",
    ),
    (&["scheduling", "userPlaceholder", "annotations"], "pause"),
];

pub struct Hardening;

/// Settings of `chart-hardening`.
pub(crate) mod hardening {
    use crate::controls::Setting;

    pub static RESTRICTED: Setting = Setting {
        name: "restricted",
        rank: 0,
        summary: "runAsNonRoot, no privilege escalation, drop ALL and seccomp RuntimeDefault on every chart container (plus AppArmor RuntimeDefault when user pods set AppArmor, Kubernetes ≥ 1.30)",
    };
    pub static CHART_DEFAULT: Setting = Setting {
        name: "chart-default",
        rank: 1,
        summary: "the chart's defaults: restricted on 4.x, baseline on 3.x",
    };
}

static HARDENING: ControlDef = ControlDef {
    id: "chart-pod-hardening",
    title: "Security contexts of the chart's own pods",
    field: "/spec/chartPods/hardening",
    rationale: "Chart 4.x already runs its pods at the restricted level; chart 3.x does not (no runAsNonRoot, seccomp or \
        drop ALL), so a namespace enforcing `restricted` would refuse them.",
    settings: &[&hardening::RESTRICTED, &hardening::CHART_DEFAULT],
    values_keys: &[
        "hub.containerSecurityContext",
        "proxy.chp.containerSecurityContext",
        "proxy.traefik.containerSecurityContext",
        "proxy.secretSync.containerSecurityContext",
        "scheduling.userScheduler.containerSecurityContext",
        "scheduling.userPlaceholder.containerSecurityContext",
        "prePuller.containerSecurityContext",
        "prePuller.hook.containerSecurityContext",
        "prePuller.pause.containerSecurityContext",
        "hub.podSecurityContext",
        "proxy.chp.extraPodSpec.securityContext",
        "proxy.traefik.extraPodSpec.securityContext",
        "scheduling.userScheduler.extraPodSpec.securityContext",
        "scheduling.userPlaceholder.extraPodSpec.securityContext",
        "hub.annotations[container.apparmor.security.beta.kubernetes.io/hub]",
        "proxy.annotations[container.apparmor.security.beta.kubernetes.io/chp]",
        "scheduling.userScheduler.annotations[container.apparmor.security.beta.kubernetes.io/kube-scheduler]",
        "scheduling.userPlaceholder.annotations[container.apparmor.security.beta.kubernetes.io/pause]",
    ],
    read_only_keys: &[],
    spawner_traits: &[],
};

fn with(base: &[&'static str], key: &'static str) -> Vec<&'static str> {
    base.iter().copied().chain(std::iter::once(key)).collect()
}

impl Control for Hardening {
    fn def(&self) -> &'static ControlDef {
        &HARDENING
    }
    fn pod_security(&self, p: &Policy) -> Option<PssReason> {
        // Chart 4 gives its own pods restricted contexts by default.
        (crate::chart::ChartLine::of(&p.chart) == crate::chart::ChartLine::V3
            && p.spec.chart_pods.hardening != ChartHardening::Restricted)
            .then(|| {
                PssReason::Baseline(
                    "chart 3.x pods lack runAsNonRoot, drop ALL and seccomp unless \
                     `chartPods.hardening: restricted`"
                        .into(),
                )
            })
    }
    fn admission(&self, p: &Policy) -> Vec<Validation> {
        if p.spec.chart_pods.hardening != ChartHardening::Restricted {
            return Vec::new();
        }
        let all = |pred: &str| every_container(Lists::All, pred, None);
        let mut v = vec![
            Validation::chart(
                HARDENING.field,
                "every container must set runAsNonRoot: true (its own or the pod's) and must not run as uid 0",
                all(&super::user_pods::non_root()),
            ),
            Validation::chart(
                HARDENING.field,
                "every container must set allowPrivilegeEscalation: false and must not be privileged",
                format!(
                    "{} && {}",
                    all(&super::user_pods::no_escalation()),
                    all(&super::user_pods::not_privileged())
                ),
            ),
            Validation::chart(
                HARDENING.field,
                "every container must drop ALL capabilities (capabilities.drop: [ALL])",
                all(&super::user_pods::drops_all()),
            ),
            Validation::chart(
                HARDENING.field,
                "every container must run with the seccomp profile RuntimeDefault or Localhost (seccompProfile, its own or the pod's)",
                all(&super::profiles::seccomp_confined(&Profile::RuntimeDefault)),
            ),
        ];
        v.extend(super::admission::chart_host_isolation(HARDENING.field));
        v
    }
    fn selected(&self, p: &Policy) -> Selected {
        match p.spec.chart_pods.hardening {
            ChartHardening::Restricted => &hardening::RESTRICTED,
            ChartHardening::ChartDefault => &hardening::CHART_DEFAULT,
        }
        .selected()
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        if p.spec.chart_pods.hardening != ChartHardening::Restricted {
            return;
        }
        let apparmor = p.spec.user_pods.app_armor != Profile::Unset;
        for base in CONTAINER_CONTEXTS {
            // Maps merge with the chart's defaults, so uid/gid settings stay.
            cx.set(&with(base, "runAsNonRoot"), json!(true));
            cx.set(&with(base, "allowPrivilegeEscalation"), json!(false));
            cx.set(&with(base, "capabilities"), json!({"drop": ["ALL"]}));
            cx.set(
                &with(base, "seccompProfile"),
                json!({"type": "RuntimeDefault"}),
            );
            if apparmor && cx.k8s_minor >= 30 {
                cx.set_at(
                    "/spec/userPods/appArmor",
                    &with(base, "appArmorProfile"),
                    json!({"type": "RuntimeDefault"}),
                );
            }
        }
        cx.set(&with(HUB_POD_CONTEXT, "runAsNonRoot"), json!(true));
        cx.set(
            &with(HUB_POD_CONTEXT, "seccompProfile"),
            json!({"type": "RuntimeDefault"}),
        );
        // Pod-level contexts too, so scanners that look at the pod see them;
        // the hub has podSecurityContext (its extraPodSpec would render a duplicate key).
        // An extra: container contexts already meet the control, and
        // `scheduling.userPlaceholder.extraPodSpec` only exists from 4.1.0.
        for base in POD_SPECS {
            let path = with(base, "securityContext");
            cx.set_extra(
                &path,
                json!({"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}}),
            );
        }
        if apparmor && cx.k8s_minor < 30 {
            // Before 1.30 only the beta annotation exists, and only some chart pods take annotations.
            for (path, container) in PRE_130_ANNOTATIONS {
                let key = format!("container.apparmor.security.beta.kubernetes.io/{container}");
                let full: Vec<&str> = path
                    .iter()
                    .copied()
                    .chain(std::iter::once(key.as_str()))
                    .collect();
                cx.set_at("/spec/userPods/appArmor", &full, json!("runtime/default"));
            }
            cx.note("/spec/userPods/appArmor", "before Kubernetes 1.30 AppArmor is set by annotation on the hub, proxy, user-scheduler and user-placeholder pods; the autohttps and image-puller pods have no annotation key and run under the node default");
        }
    }
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        let hardened = |ctx: &Value| {
            ctx.get("runAsNonRoot") == Some(&json!(true))
                && ctx.get("allowPrivilegeEscalation") == Some(&json!(false))
                && ctx
                    .pointer("/capabilities/drop")
                    .and_then(Value::as_array)
                    .is_some_and(|d| d.iter().any(|c| c == "ALL"))
                && matches!(
                    ctx.pointer("/seccompProfile/type").and_then(Value::as_str),
                    Some("RuntimeDefault" | "Localhost")
                )
        };
        let weak: Vec<String> = CONTAINER_CONTEXTS
            .iter()
            .filter(|p| !v.get(p).is_some_and(hardened))
            .map(|p| p.join("."))
            .collect();
        ReadBack::Setting(if weak.is_empty() {
            hardening::RESTRICTED.selected()
        } else {
            hardening::CHART_DEFAULT.with(weak.join(", "))
        })
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        if let Some(got) = super::read_setting(self, v) {
            p.spec.chart_pods.hardening = if got.is(&hardening::RESTRICTED) {
                ChartHardening::Restricted
            } else {
                ChartHardening::ChartDefault
            };
        }
        Vec::new()
    }
}

pub struct ChartResourcesControl;

/// Settings of `chart-resources`.
pub(crate) mod limits {
    use crate::controls::Setting;

    pub static LIMITED: Setting = Setting {
        name: "limited",
        rank: 0,
        summary: "requests and limits on the hub, proxy, autohttps, scheduler, pullers and network-tools containers",
    };
    pub static CHART_DEFAULT: Setting = Setting {
        name: "chart-default",
        rank: 1,
        summary: "no requests or limits (chart default `{}`)",
    };
}

static RESOURCES: ControlDef = ControlDef {
    id: "chart-pod-resources",
    title: "Resource requests and limits of the chart's own pods",
    field: "/spec/chartPods/resources",
    rationale: "Without limits a busy or compromised hub or proxy can starve the node; without requests the scheduler cannot place them well.",
    settings: &[&limits::LIMITED, &limits::CHART_DEFAULT],
    values_keys: &[
        "hub.resources",
        "proxy.chp.resources",
        "proxy.traefik.resources",
        "proxy.secretSync.resources",
        "scheduling.userScheduler.resources",
        "prePuller.resources",
        "prePuller.hook.resources",
        "singleuser.networkTools.resources",
    ],
    read_only_keys: &[],
    spawner_traits: &[],
};

/// (values path, requests cpu, requests memory, limits cpu, limits memory).
const SIZES: &[(&[&str], &str, &str, &str, &str)] = &[
    (&["hub", "resources"], "100m", "512Mi", "1", "1Gi"),
    (
        &["proxy", "chp", "resources"],
        "100m",
        "128Mi",
        "1",
        "512Mi",
    ),
    (
        &["proxy", "traefik", "resources"],
        "100m",
        "128Mi",
        "1",
        "512Mi",
    ),
    (
        &["proxy", "secretSync", "resources"],
        "10m",
        "32Mi",
        "100m",
        "64Mi",
    ),
    (
        &["scheduling", "userScheduler", "resources"],
        "50m",
        "256Mi",
        "500m",
        "512Mi",
    ),
    (&["prePuller", "resources"], "10m", "8Mi", "100m", "64Mi"),
    (
        &["prePuller", "hook", "resources"],
        "10m",
        "32Mi",
        "100m",
        "64Mi",
    ),
    (
        &["singleuser", "networkTools", "resources"],
        "10m",
        "16Mi",
        "100m",
        "64Mi",
    ),
];

/// Whether the chart runs the container whose resources live at `path`.
pub(super) fn chart_container_runs(v: &ValuesView, path: &[&str]) -> bool {
    let on = |p: &[&str]| crate::effective::spawner::truthy(v.get(p));
    match path {
        ["proxy", "traefik", ..] | ["proxy", "secretSync", ..] => {
            let https = on(&["proxy", "https", "enabled"])
                && !crate::values::get_strs(v.values, &["proxy", "https", "hosts"]).is_empty();
            let ty = v.str(&["proxy", "https", "type"]).unwrap_or("letsencrypt");
            https
                && match path[1] {
                    "secretSync" => ty == "letsencrypt",
                    _ => matches!(ty, "letsencrypt" | "manual" | "secret"),
                }
        }
        ["scheduling", "userScheduler", ..] => on(&["scheduling", "userScheduler", "enabled"]),
        ["prePuller", "hook", ..] => on(&["prePuller", "hook", "enabled"]),
        ["prePuller", ..] => {
            on(&["prePuller", "hook", "enabled"]) || on(&["prePuller", "continuous", "enabled"])
        }
        ["singleuser", "networkTools", ..] => {
            v.get(&["singleuser", "cloudMetadata", "blockWithIptables"]) == Some(&Value::Bool(true))
        }
        _ => true,
    }
}

impl Control for ChartResourcesControl {
    fn def(&self) -> &'static ControlDef {
        &RESOURCES
    }
    fn selected(&self, p: &Policy) -> Selected {
        match p.spec.chart_pods.resources {
            ChartResources::Limited => &limits::LIMITED,
            ChartResources::ChartDefault => &limits::CHART_DEFAULT,
        }
        .selected()
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        if p.spec.chart_pods.resources != ChartResources::Limited {
            return;
        }
        for (path, rc, rm, lc, lm) in SIZES {
            cx.set(
                path,
                json!({"requests": {"cpu": rc, "memory": rm}, "limits": {"cpu": lc, "memory": lm}}),
            );
        }
        cx.note(RESOURCES.field, "chart pods get modest requests and limits (hub: 1 CPU, 1Gi); raise `hub.resources` in your own values for hubs with thousands of users");
    }
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        // Requests and limits for CPU and memory on every chart container
        // the values put in the cluster.
        let mut missing = Vec::new();
        let mut running = 0;
        for (path, ..) in SIZES {
            if !chart_container_runs(v, path) {
                continue;
            }
            running += 1;
            let lacks: Vec<String> = ["requests", "limits"]
                .iter()
                .flat_map(|kind| ["cpu", "memory"].map(|r| (*kind, r)))
                .filter(|(kind, r)| {
                    let mut p: Vec<&str> = path.to_vec();
                    p.extend([*kind, *r]);
                    v.get(&p).is_none_or(Value::is_null)
                })
                .map(|(kind, r)| format!("{kind}.{r}"))
                .collect();
            if !lacks.is_empty() {
                missing.push(format!("{}: no {}", path.join("."), lacks.join(", ")));
            }
        }
        ReadBack::Setting(if missing.is_empty() {
            limits::LIMITED.selected()
        } else if missing.len() == running
            && missing
                .iter()
                .all(|m| m.ends_with("no requests.cpu, requests.memory, limits.cpu, limits.memory"))
        {
            limits::CHART_DEFAULT.selected()
        } else {
            limits::CHART_DEFAULT.with(missing.join("; "))
        })
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        if got.is(&limits::LIMITED) {
            let own = SIZES.iter().any(|(path, rc, rm, lc, lm)| {
                v.get(path) != Some(&json!({"requests": {"cpu": rc, "memory": rm}, "limits": {"cpu": lc, "memory": lm}}))
            });
            if own {
                // `limited` would emit the compiler's sizes, and the policy's
                // values, passed last, would replace these: keep them.
                p.spec.chart_pods.resources = ChartResources::ChartDefault;
                vec!["chart pods have requests and limits of their own; `chartPods.resources` stays `chart-default` so the policy's values do not replace them (keep your values file, which sets them)".into()]
            } else {
                p.spec.chart_pods.resources = ChartResources::Limited;
                Vec::new()
            }
        } else {
            p.spec.chart_pods.resources = ChartResources::ChartDefault;
            Vec::new()
        }
    }
}

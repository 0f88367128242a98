//! Isolation of user pods from the node: a sandboxed container runtime
//! (RuntimeClass), user namespaces (`hostUsers: false`) and a read-only
//! root file system.
//!
//! The pod-level fields go through `singleuser.extraPodConfig`, which the
//! chart hands to KubeSpawner's `extra_pod_config` in every release (the
//! chart and KubeSpawner have no dedicated setting). A profile's
//! `kubespawner_override` of `extra_pod_config` is merged key by key into
//! it (a `null` removes a key), so these controls are read back from the
//! effective pods of every profile, never from the keys.

use serde_json::{Value, json};

use super::{Control, ControlDef, Judgement, Setting, ValuesView};
use crate::admission::Validation;
use crate::admission::cel;
use crate::effective::Pod;
use crate::effective::grade::{self, Verdict};
use crate::effective::pod::EXTRA_POD_CONFIG as POD_CONFIG_ORIGIN;
use crate::lower::Lowering;
use crate::plan::{Group, Selected};
use crate::policy::{Policy, RuntimeClass, RuntimeMode};
use crate::validate::formats::k8s_subdomain;

/// The chart's pass-through of pod-spec fields.
const EXTRA_POD_CONFIG: &[&str] = &["singleuser", "extraPodConfig"];

fn pod_config(field: &str) -> Vec<&str> {
    EXTRA_POD_CONFIG.iter().copied().chain([field]).collect()
}

// ---------------------------------------------------------------- runtime class

pub struct RuntimeClassControl;

const RUNTIME_PTR: &str = "/spec/userPods/runtimeClass";

static RUNTIME: ControlDef = ControlDef {
    id: "runtime-class",
    title: "Container runtime of user pods",
    field: "/spec/userPods/runtimeClass/mode",
    rationale: "Under the default runtime every notebook shares the node's kernel, so one kernel bug takes a user \
        from their server to the node and every other user on it. A sandboxed runtime puts a kernel of its own \
        (gVisor) or a virtual machine (Kata Containers) between the notebook and the node, at the cost of \
        syscall compatibility, I/O speed and per-pod overhead, and only on nodes that have the handler installed.",
    settings: &[
        Setting {
            name: "sandboxed",
            rank: 0,
            summary: "`runtimeClassName` of a sandbox (gVisor, Kata Containers) on every user pod, through `singleuser.extraPodConfig`; the RuntimeClass is emitted when the policy gives its `handler`",
        },
        Setting {
            name: "default-runtime",
            rank: 1,
            summary: "the node's default runtime (runc): user servers share the node's kernel",
        },
    ],
    values_keys: &[
        "singleuser.extraPodConfig.runtimeClassName",
        "hub.config.KubeSpawner.extra_pod_config",
        "singleuser.profileList",
    ],
    spawner_traits: &["extra_pod_config"],
};

/// The RuntimeClass user pods run under: the setting, with the name.
fn runtime_of(pod: &Pod) -> Verdict {
    const PTR: &str = "/spec/runtimeClassName";
    if let Some(u) = grade::unknown(pod, PTR) {
        return u;
    }
    match pod.json.pointer(PTR).and_then(Value::as_str) {
        Some(name) if !name.is_empty() => {
            Verdict::found(pod, 0, Some(name.to_string()), grade::origin(pod, PTR))
        }
        _ => Verdict::found(pod, 1, None, left_out(pod, PTR)),
    }
}

/// What decided that a pod-spec field is not set: its own origin, else the
/// `extra_pod_config` that leaves it out.
fn left_out(pod: &Pod, ptr: &str) -> Option<crate::effective::Origin> {
    grade::origin(pod, ptr).or_else(|| pod.origins.get(POD_CONFIG_ORIGIN).cloned())
}

impl Control for RuntimeClassControl {
    fn def(&self) -> &'static ControlDef {
        &RUNTIME
    }
    fn selected(&self, p: &Policy) -> Selected {
        let rc = &p.spec.user_pods.runtime_class;
        match (rc.mode, &rc.name) {
            (RuntimeMode::Sandboxed, Some(name)) => Selected::with(0, name.clone()),
            (RuntimeMode::Sandboxed, None) => Selected::of(0),
            (RuntimeMode::DefaultRuntime, _) => Selected::of(1),
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let rc = &p.spec.user_pods.runtime_class;
        if rc.mode == RuntimeMode::DefaultRuntime {
            return;
        }
        let Some(name) = &rc.name else {
            cx.error(
                RUNTIME.field,
                "`runtimeClass.mode: sandboxed` needs `runtimeClass.name`",
                "add `name: gvisor` (and `handler: runsc` to emit the RuntimeClass), or `name: kata` with `handler: kata`",
            );
            return;
        };
        cx.set_at(
            &format!("{RUNTIME_PTR}/name"),
            &pod_config("runtimeClassName"),
            json!(name),
        );
        match &rc.handler {
            Some(handler) => {
                let scheduling = rc.scheduling.as_ref().and_then(|s| {
                    let v = serde_json::to_value(s).unwrap_or(Value::Null);
                    v.as_object().is_some_and(|m| !m.is_empty()).then_some(v)
                });
                let ctx = json!({
                    "hub": p.metadata.name,
                    "name": name,
                    "handler": handler,
                    "scheduling": scheduling,
                });
                cx.manifest(Group::Runtime, "runtime-class.yaml", ctx);
                cx.note(
                    &format!("{RUNTIME_PTR}/handler"),
                    format!(
                        "every node that runs user servers needs the CRI handler `{handler}` configured in its container runtime (containerd: a `runtimes.{handler}` entry in its CRI plugin configuration, with the sandbox's shim installed); a pod scheduled to a node without it fails to start{}",
                        if scheduling.is_some() {
                            "; the RuntimeClass's `scheduling` keeps user pods on the labelled nodes"
                        } else {
                            ": label those nodes and add `runtimeClass.scheduling.nodeSelector`, or install the handler everywhere"
                        }
                    ),
                );
            }
            None => {
                if rc.scheduling.is_some() {
                    cx.warn(
                        &format!("{RUNTIME_PTR}/scheduling"),
                        "`runtimeClass.scheduling` is only emitted with the RuntimeClass, which needs `runtimeClass.handler`",
                        "add `handler`, or set the scheduling on the RuntimeClass the cluster already has",
                    );
                }
                cx.note(
                    &format!("{RUNTIME_PTR}/name"),
                    format!(
                        "the RuntimeClass `{name}` must exist before user servers start (GKE Sandbox provides `gvisor`); the API server refuses a pod that names a missing class"
                    ),
                );
            }
        }
        cx.note(
            RUNTIME.field,
            "a sandbox trades compatibility for isolation: gVisor implements most, not all, Linux system calls and slows file and network I/O; Kata runs each pod in a virtual machine (nested virtualisation or bare-metal nodes, more memory per pod); GPUs need the sandbox's own device support. A profile's `kubespawner_override` can name another class or remove it (`extra_pod_config: {runtimeClassName: null}`): `check` reads every profile's pod, and the admission policy refuses such pods",
        );
    }
    fn judge(&self, v: &ValuesView) -> Judgement {
        v.judge_pods(&RUNTIME, |pod, _| runtime_of(pod))
    }
    fn parameters(&self, p: &Policy, v: &ValuesView) -> Vec<String> {
        let rc = &p.spec.user_pods.runtime_class;
        let (RuntimeMode::Sandboxed, Some(want)) = (rc.mode, &rc.name) else {
            return Vec::new();
        };
        v.deployment()
            .pods
            .iter()
            .filter_map(|(pod, _)| {
                let got = pod
                    .json
                    .pointer("/spec/runtimeClassName")
                    .and_then(Value::as_str)
                    .filter(|g| !g.is_empty())?;
                (got != want).then(|| {
                    format!(
                        "the RuntimeClass `{got}` ({}), the policy requires `{want}`",
                        pod.label
                    )
                })
            })
            .collect()
    }
    fn admission(&self, p: &Policy) -> Vec<Validation> {
        let rc = &p.spec.user_pods.runtime_class;
        let (RuntimeMode::Sandboxed, Some(name)) = (rc.mode, &rc.name) else {
            return Vec::new();
        };
        vec![Validation::user(
            RUNTIME.field,
            format!("the pod must run under the RuntimeClass `{name}` (runtimeClassName)"),
            format!(
                "has(object.spec.runtimeClassName) && object.spec.runtimeClassName == {}",
                cel::string(name)
            ),
        )]
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        let rc = &mut p.spec.user_pods.runtime_class;
        if got.index != 0 {
            *rc = RuntimeClass::default();
            return Vec::new();
        }
        match got
            .detail
            .as_deref()
            .map(|d| d.split("; ").next().unwrap_or(d))
        {
            Some(name) if k8s_subdomain(name).is_ok() => {
                rc.mode = RuntimeMode::Sandboxed;
                rc.name = Some(name.to_string());
                rc.handler = None;
                rc.scheduling = None;
                Vec::new()
            }
            other => {
                *rc = RuntimeClass::default();
                vec![format!(
                    "user pods run under the RuntimeClass `{}`, which is not a RuntimeClass name; proposed `default-runtime`",
                    other.unwrap_or_default()
                )]
            }
        }
    }
}

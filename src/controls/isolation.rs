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
use crate::controls::lowering::Lowering;
use crate::effective::Pod;
use crate::effective::grade::{self, Verdict};
use crate::effective::pod::EXTRA_POD_CONFIG as POD_CONFIG_ORIGIN;
use crate::plan::{Group, Selected};
use crate::policy::{IdentityMode, Policy, RuntimeClass, RuntimeMode, StorageType};
use crate::validate::formats::k8s_subdomain;

/// The chart's pass-through of pod-spec fields.
const EXTRA_POD_CONFIG: &[&str] = &["singleuser", "extraPodConfig"];

fn pod_config(field: &str) -> Vec<&str> {
    EXTRA_POD_CONFIG.iter().copied().chain([field]).collect()
}

// ---------------------------------------------------------------- runtime class

pub(crate) mod runtime {
    use super::Setting;

    pub static SANDBOXED: Setting = Setting {
        name: "sandboxed",
        rank: 0,
        summary: "`runtimeClassName` of a sandbox (gVisor, Kata Containers) on every user pod, through `singleuser.extraPodConfig`; the RuntimeClass is emitted when the policy gives its `handler`",
    };
    pub static DEFAULT_RUNTIME: Setting = Setting {
        name: "default-runtime",
        rank: 1,
        summary: "the node's default runtime (runc): user servers share the node's kernel",
    };
}

pub(crate) mod userns {
    use super::Setting;

    pub static USER_NAMESPACE: Setting = Setting {
        name: "user-namespace",
        rank: 0,
        summary: "`hostUsers: false` on every user pod, through `singleuser.extraPodConfig` (Kubernetes ≥ 1.33, or 1.30 with the feature gate; Linux ≥ 6.3, containerd ≥ 2.0 or CRI-O ≥ 1.25, runc ≥ 1.2 on the nodes)",
    };
    pub static HOST_USERS: Setting = Setting {
        name: "host-users",
        rank: 1,
        summary: "the node's user namespace (Kubernetes' default): uids in the pod are uids on the node",
    };
}

pub(crate) mod read_only {
    use super::Setting;

    pub static READ_ONLY: Setting = Setting {
        name: "read-only",
        rank: 0,
        summary: "`readOnlyRootFilesystem: true` on the notebook container; emptyDir volumes at /tmp (and at the home directory when homes are not stored)",
    };
    pub static WRITABLE: Setting = Setting {
        name: "writable",
        rank: 1,
        summary: "the container may write anywhere in its image's file system (Kubernetes' default)",
    };
}

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
    settings: &[&runtime::SANDBOXED, &runtime::DEFAULT_RUNTIME],
    values_keys: &[
        "singleuser.extraPodConfig.runtimeClassName",
        "hub.config.KubeSpawner.extra_pod_config",
        "singleuser.profileList",
    ],
    read_only_keys: &[
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
        Some(name) if !name.is_empty() => Verdict::found(
            pod,
            &runtime::SANDBOXED,
            Some(name.to_string()),
            grade::origin(pod, PTR),
        ),
        _ => Verdict::found(pod, &runtime::DEFAULT_RUNTIME, None, left_out(pod, PTR)),
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
            (RuntimeMode::Sandboxed, Some(name)) => runtime::SANDBOXED.with(name.clone()),
            (RuntimeMode::Sandboxed, None) => runtime::SANDBOXED.selected(),
            (RuntimeMode::DefaultRuntime, _) => runtime::DEFAULT_RUNTIME.selected(),
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
        if !got.is(&runtime::SANDBOXED) {
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

// ---------------------------------------------------------------- user namespaces

pub struct UserNamespaces;

static USERNS: ControlDef = ControlDef {
    id: "user-namespaces",
    title: "User namespaces of user pods",
    field: "/spec/userPods/hostUsers",
    rationale: "In the node's user namespace a uid in the pod is the same uid on the node: root that escapes the \
        container is root on the node, and a capability granted in the pod holds on the node. In a user namespace \
        of its own (`hostUsers: false`) the pod's uids map to an unprivileged range no other pod shares, so a \
        breakout lands as nobody in particular; several container escapes rated high or critical were not \
        exploitable this way. It needs recent nodes, and volumes whose file system supports idmapped mounts.",
    settings: &[&userns::USER_NAMESPACE, &userns::HOST_USERS],
    values_keys: &[
        "singleuser.extraPodConfig.hostUsers",
        "hub.config.KubeSpawner.extra_pod_config",
        "singleuser.profileList",
    ],
    read_only_keys: &[
        "hub.config.KubeSpawner.extra_pod_config",
        "singleuser.profileList",
    ],
    spawner_traits: &["extra_pod_config"],
};

/// The highest uid or gid a pod in its own user namespace can use.
const USERNS_MAX_ID: u32 = 65535;

/// The first chart release whose hub image models `host_users` (its
/// kubernetes_asyncio; 3.0.x ship 24.2.3, from before the field existed,
/// and KubeSpawner refuses an `extra_pod_config` key the model lacks).
const USERNS_FIRST_CHART: &str = "3.1.0";

fn userns_of(pod: &Pod) -> Verdict {
    const PTR: &str = "/spec/hostUsers";
    if let Some(u) = grade::unknown(pod, PTR) {
        return u;
    }
    match pod.json.pointer(PTR) {
        Some(Value::Bool(false)) => {
            Verdict::found(pod, &userns::USER_NAMESPACE, None, grade::origin(pod, PTR))
        }
        _ => Verdict::found(pod, &userns::HOST_USERS, None, left_out(pod, PTR)),
    }
}

impl Control for UserNamespaces {
    fn def(&self) -> &'static ControlDef {
        &USERNS
    }
    fn selected(&self, p: &Policy) -> Selected {
        if p.spec.user_pods.host_users {
            userns::HOST_USERS.selected()
        } else {
            userns::USER_NAMESPACE.selected()
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        if p.spec.user_pods.host_users {
            return;
        }
        let field = USERNS.field;
        let mut refused = false;
        if let (Some(have), Some(first)) = (
            crate::chart::version::Version::parse(&p.chart),
            crate::chart::version::Version::parse(USERNS_FIRST_CHART),
        ) && have < first
        {
            cx.error(
                field,
                format!(
                    "chart {} cannot run user pods with `hostUsers: false`: its hub image's kubernetes_asyncio (24.2) has no `host_users` field, so KubeSpawner refuses the `extra_pod_config` and no server starts",
                    p.chart
                ),
                format!("target chart {USERNS_FIRST_CHART} or newer, or keep `hostUsers: true`"),
            );
            refused = true;
        }
        if cx.k8s_minor < 30 {
            cx.error(
                field,
                format!(
                    "user namespaces for pods are alpha before Kubernetes 1.30 (the policy's `kubernetesVersion` is {})",
                    p.kubernetes_version
                ),
                "raise `kubernetesVersion` to 1.33 (on by default) once every node runs it, or keep `hostUsers: true`",
            );
            refused = true;
        }
        if p.spec.storage.kind == StorageType::Nfs {
            cx.error(
                field,
                "NFS does not support idmapped mounts: a user pod with `hostUsers: false` cannot mount its NFS home and never starts",
                "keep `hostUsers: true` with NFS homes, or use `storage.type: block` (ext4, xfs and btrfs support idmapped mounts)",
            );
            refused = true;
        }
        let id = &p.spec.user_pods.identity;
        let out_of_range = |what: &str, n: u32| {
            format!(
                "{what} {n} is outside the 0-{USERNS_MAX_ID} range a pod in its own user namespace can use"
            )
        };
        match id.mode {
            IdentityMode::Fixed if id.uid > USERNS_MAX_ID => {
                cx.error(
                    "/spec/userPods/identity/uid",
                    out_of_range("uid", id.uid),
                    "pick a uid of at most 65535 (1000 is the Jupyter images' user), or keep `hostUsers: true`",
                );
                refused = true;
            }
            IdentityMode::PerUser if id.per_user_base > USERNS_MAX_ID - 1 => {
                cx.error(
                    "/spec/userPods/identity/perUserBase",
                    out_of_range("every per-user uid from", id.per_user_base.saturating_add(1)),
                    "lower `perUserBase` (e.g. 10000: uids stay unique per pod, and the user namespace already keeps them apart from the node's), or keep `hostUsers: true`",
                );
                refused = true;
            }
            IdentityMode::PerUser => cx.warn(
                "/spec/userPods/identity/perUserBase",
                format!(
                    "users whose hub id is above {} get a uid outside 0-{USERNS_MAX_ID} and their server fails to start",
                    USERNS_MAX_ID - id.per_user_base
                ),
                "lower `perUserBase`, or use `identity.mode: fixed`: in its own user namespace a shared uid is no longer a shared uid on the node",
            ),
            _ => {}
        }
        if id.fs_gid > USERNS_MAX_ID {
            cx.error(
                "/spec/userPods/identity/fsGid",
                out_of_range("fsGid", id.fs_gid),
                "pick a group of at most 65535 (100 is the Jupyter images' group), or keep `hostUsers: true`",
            );
            refused = true;
        }
        if refused {
            return;
        }
        cx.set(&pod_config("hostUsers"), json!(false));
        if cx.k8s_minor < 33 {
            cx.warn(
                field,
                format!(
                    "user namespaces are beta and off by default before Kubernetes 1.33 (the policy's `kubernetesVersion` is {})",
                    p.kubernetes_version
                ),
                "enable the `UserNamespacesSupport` feature gate on every API server and kubelet: without it the API server drops `hostUsers` and the pod runs in the node's user namespace (the admission policy then refuses it)",
            );
        }
        cx.note(
            field,
            "every node that runs user servers needs Linux ≥ 6.3 (idmapped mounts on tmpfs, which holds service-account tokens and secrets; ext4, xfs, btrfs and overlayfs have them), containerd ≥ 2.0 or CRI-O ≥ 1.25, and runc ≥ 1.2 (or crun ≥ 1.9); containerd 1.6 and older ignore `hostUsers: false` silently. Every volume of the pod must be on a file system with idmapped mounts (not NFS). Pod Security Admission may relax its runAsNonRoot and runAsUser checks for such pods (the `UserNamespacesPodSecurityStandards` feature gate); this policy keeps requiring what it states",
        );
    }
    fn judge(&self, v: &ValuesView) -> Judgement {
        v.judge_pods(&USERNS, |pod, _| userns_of(pod))
    }
    fn admission(&self, p: &Policy) -> Vec<Validation> {
        if p.spec.user_pods.host_users {
            return Vec::new();
        }
        vec![Validation::user(
            USERNS.field,
            "the pod must run in a user namespace of its own (hostUsers: false)",
            "has(object.spec.hostUsers) && object.spec.hostUsers == false".to_string(),
        )]
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        if let Some(got) = super::read_setting(self, v) {
            p.spec.user_pods.host_users = !got.is(&userns::USER_NAMESPACE);
        }
        Vec::new()
    }
}

// ---------------------------------------------------------------- read-only root file system

pub struct ReadOnlyRoot;

static READ_ONLY: ControlDef = ControlDef {
    id: "read-only-root",
    title: "Read-only root file system of user containers",
    field: "/spec/userPods/readOnlyRootFilesystem",
    rationale: "A writable image lets code that got into a server change the programs and libraries every later \
        command in it runs, and hide tools there; a read-only image keeps what can change to the volumes, which \
        are visible, size-limited and gone with the pod (/tmp) or the user's own (home). Installing into the \
        image's environment (`pip install`, `conda install` without `--user`) stops working.",
    settings: &[&read_only::READ_ONLY, &read_only::WRITABLE],
    values_keys: &[
        "hub.config.KubeSpawner.container_security_context",
        "hub.config.KubeSpawner.extra_container_config",
        "singleuser.storage.extraVolumes",
        "singleuser.storage.extraVolumeMounts",
    ],
    read_only_keys: &["hub.config.KubeSpawner.extra_container_config"],
    spawner_traits: &["container_security_context", "extra_container_config"],
};

/// The chart's default home directory (`singleuser.storage.homeMountPath`).
const HOME: &str = "/home/jovyan";

impl Control for ReadOnlyRoot {
    fn def(&self) -> &'static ControlDef {
        &READ_ONLY
    }
    fn selected(&self, p: &Policy) -> Selected {
        if p.spec.user_pods.read_only_root_filesystem {
            read_only::READ_ONLY.selected()
        } else {
            read_only::WRITABLE.selected()
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        if !p.spec.user_pods.read_only_root_filesystem {
            return;
        }
        cx.set(
            &super::user_pods::path(super::user_pods::CTR_CTX, &["readOnlyRootFilesystem"]),
            json!(true),
        );
        let mut writable = vec![("writable-tmp", "/tmp")];
        if p.spec.storage.kind == StorageType::None {
            writable.push(("writable-home", HOME));
        }
        for (name, path) in &writable {
            cx.append(
                &["singleuser", "storage", "extraVolumes"],
                json!({"name": name, "emptyDir": {}}),
            );
            cx.append(
                &["singleuser", "storage", "extraVolumeMounts"],
                json!({"name": name, "mountPath": path}),
            );
        }
        let home = if p.spec.storage.kind == StorageType::None {
            format!(
                "an emptyDir at {HOME} (no home is stored, and the image's home directory is read-only now; it is lost with the pod like everything else)"
            )
        } else {
            "the home volume, as before".to_string()
        };
        cx.note(
            READ_ONLY.field,
            format!(
                "the notebook container writes only to its volumes: /tmp (an emptyDir, counted against the ephemeral-storage limit) and {home}; ~/.local (`pip install --user`), ~/.cache, ~/.jupyter and Jupyter's runtime directory (~/.local/share/jupyter/runtime) are in the home directory, and /dev/shm is the runtime's own tmpfs. The image itself is read-only: `pip install` or `conda install` into its environment fails (use `--user`), and a start script cannot add the uid to /etc/passwd. Paths outside these need an emptyDir of their own in `singleuser.storage.extraVolumes`/`extraVolumeMounts`"
            ),
        );
        cx.note(
            READ_ONLY.field,
            "the policy's values set the lists `singleuser.storage.extraVolumes` and `extraVolumeMounts`, and Helm replaces lists whole: volumes listed there in an earlier values file are dropped. List your own after the policy's values, together with its `writable-*` entries",
        );
        if p.spec.user_pods.identity.mode == IdentityMode::PerUser {
            cx.note(
                READ_ONLY.field,
                "with per-user uids the uid has no /etc/passwd entry and none can be added: tools that look the user up (ssh, some shells' prompts) show `I have no name!`",
            );
        }
    }
    fn judge(&self, v: &ValuesView) -> Judgement {
        let keys = {
            let on = super::user_pods::ctx_get(
                v,
                super::user_pods::CTR_CTX,
                &["readOnlyRootFilesystem"],
            ) == Some(&json!(true));
            super::ReadBack::Setting(if on {
                read_only::READ_ONLY.selected()
            } else {
                read_only::WRITABLE.selected()
            })
        };
        super::reconcile(keys, v.judge_pods(&READ_ONLY, grade::read_only_root))
    }
    fn admission(&self, p: &Policy) -> Vec<Validation> {
        if !p.spec.user_pods.read_only_root_filesystem {
            return Vec::new();
        }
        vec![Validation::user(
            READ_ONLY.field,
            "every container must set readOnlyRootFilesystem: true",
            super::cloud_metadata::every_user_container(
                p,
                cel::Lists::All,
                &cel::own_field("readOnlyRootFilesystem", |f| format!("{f} == true")),
            ),
        )]
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        if let Some(got) = super::read_setting(self, v) {
            p.spec.user_pods.read_only_root_filesystem = got.is(&read_only::READ_ONLY);
        }
        Vec::new()
    }
}

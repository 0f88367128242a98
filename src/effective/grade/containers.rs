//! Graders of the security contexts of every user container (init
//! containers and sidecars too): root, privilege, capabilities, read-only
//! root, seccomp, AppArmor and the notebook's uid.

use std::borrow::Cow;

use serde_json::Value;

use super::{Verdict, origin, unknown};
use crate::controls::Setting;
use crate::controls::isolation::read_only;
use crate::controls::profiles::{Kind, Profiles, app_armor, seccomp};
use crate::controls::user_pods::{caps, escalation, identity, non_root};
use crate::effective::Pointer;
use crate::effective::network::Network;
use crate::effective::origin::Origin;
use crate::effective::pod::Pod;
use crate::effective::spawner::scalar_text;

/// One container of a pod.
struct Ctr<'a> {
    ptr: Cow<'static, str>,
    name: Cow<'a, str>,
    c: &'a Value,
}

/// Containers graded as user containers. The chart's own metadata blocker
/// (added for `cloudMetadata.blockWithIptables`) is the cloud-metadata
/// control's accepted trade-off and is graded there, not here.
fn user_containers(pod: &Pod) -> Vec<Ctr<'_>> {
    pod.containers()
        .into_iter()
        .filter(|(ptr, _)| !is_chart_blocker(pod, ptr))
        .map(|(ptr, c)| Ctr {
            name: match c.get("name") {
                Some(Value::String(s)) => Cow::Borrowed(s.as_str()),
                Some(other) => Cow::Owned(scalar_text(other)),
                None => Cow::Borrowed("?"),
            },
            ptr,
            c,
        })
        .collect()
}

pub(crate) fn is_chart_blocker(pod: &Pod, ptr: &str) -> bool {
    ptr.starts_with("/spec/initContainers/")
        && pod.origins.get(ptr)
            == Some(&Origin::values(&[
                "singleuser",
                "cloudMetadata",
                "blockWithIptables",
            ]))
}

/// A container security-context field, else the pod's, with its pointer.
fn ctx<'a>(pod: &'a Pod, c: &Ctr<'a>, field: &str) -> (Option<&'a Value>, String) {
    let container = || format!("{}/securityContext/{field}", c.ptr);
    if let Some(v) = c.c.get("securityContext").and_then(|x| x.get(field)) {
        return (Some(v), container());
    }
    let pod_ctx = pod.json.get("spec").and_then(|x| x.get("securityContext"));
    match pod_ctx.and_then(|x| x.get(field)) {
        Some(v) => (Some(v), format!("/spec/securityContext/{field}")),
        None => (None, container()),
    }
}

/// Containers whose security context can't be read make the pod unknown.
fn ctx_unknown(pod: &Pod) -> Option<Verdict> {
    unknown(pod, "/spec/containers/0/securityContext")
        .or_else(|| unknown(pod, "/spec/securityContext"))
        .or_else(|| unknown(pod, "/spec/initContainers"))
        .or_else(|| unknown(pod, "/spec/containers/1"))
}

// ------------------------------------------------------------------ graders

/// `runAsNonRoot` enforced for every container, none running as uid 0.
pub fn run_as_non_root(pod: &Pod, _: &Network) -> Verdict {
    if let Some(u) = ctx_unknown(pod) {
        return u;
    }
    for c in user_containers(pod) {
        let (uid, uid_ptr) = ctx(pod, &c, "runAsUser");
        if uid.and_then(Value::as_i64) == Some(0) {
            return Verdict::found(
                pod,
                &non_root::NOT_REQUIRED,
                Some(format!("container `{}` runs as uid 0", c.name)),
                origin(pod, &uid_ptr),
            );
        }
        let (nonroot, ptr) = ctx(pod, &c, "runAsNonRoot");
        if nonroot != Some(&Value::Bool(true)) {
            let by = origin(pod, &ptr).or_else(|| origin(pod, &c.ptr));
            return Verdict::found(
                pod,
                &non_root::NOT_REQUIRED,
                Some(format!("container `{}` may run as root", c.name)),
                by,
            );
        }
    }
    Verdict::found(
        pod,
        &non_root::REQUIRED,
        None,
        origin(pod, "/spec/containers/0/securityContext/runAsNonRoot"),
    )
}

/// A privileged container: `allowed`, the setting of the control it undoes
/// (privilege escalation or capabilities) that it stands for.
fn privileged(pod: &Pod, c: &Ctr, allowed: &'static Setting) -> Option<Verdict> {
    if c.c.at("/securityContext/privileged") != Some(&Value::Bool(true)) {
        return None;
    }
    let detail = if c.ptr == "/spec/containers/0" {
        "privileged".to_string()
    } else {
        format!("container `{}` is privileged", c.name)
    };
    let ptr = format!("{}/securityContext/privileged", c.ptr);
    Some(Verdict::found(
        pod,
        allowed,
        Some(detail),
        origin(pod, &ptr),
    ))
}

/// Denied, or allowed (privileged, or escalation not refused).
pub fn privilege_escalation(pod: &Pod, _: &Network) -> Verdict {
    if let Some(u) = ctx_unknown(pod) {
        return u;
    }
    for c in user_containers(pod) {
        if let Some(v) = privileged(pod, &c, &escalation::ALLOWED) {
            return v;
        }
    }
    for c in user_containers(pod) {
        let ptr = format!("{}/securityContext/allowPrivilegeEscalation", c.ptr);
        if c.c.at("/securityContext/allowPrivilegeEscalation") != Some(&Value::Bool(false)) {
            let detail = if c.ptr == "/spec/containers/0" {
                None
            } else {
                Some(format!("container `{}`", c.name))
            };
            return Verdict::found(
                pod,
                &escalation::ALLOWED,
                detail,
                origin(pod, &ptr).or_else(|| origin(pod, &c.ptr)),
            );
        }
    }
    Verdict::found(
        pod,
        &escalation::DENIED,
        None,
        origin(
            pod,
            "/spec/containers/0/securityContext/allowPrivilegeEscalation",
        ),
    )
}

/// Drop-all (and nothing added), or the runtime's default.
pub fn capabilities(pod: &Pod, _: &Network) -> Verdict {
    if let Some(u) = ctx_unknown(pod) {
        return u;
    }
    for c in user_containers(pod) {
        let caps_ptr = format!("{}/securityContext/capabilities", c.ptr);
        if let Some(v) = privileged(pod, &c, &caps::RUNTIME_DEFAULT) {
            return v;
        }
        let added: Vec<String> =
            c.c.at("/securityContext/capabilities/add")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(scalar_text).collect())
                .unwrap_or_default();
        if !added.is_empty() {
            return Verdict::found(
                pod,
                &caps::RUNTIME_DEFAULT,
                Some(format!("container `{}` adds {}", c.name, added.join(", "))),
                origin(pod, &format!("{caps_ptr}/add/0")),
            );
        }
        let drops_all =
            c.c.at("/securityContext/capabilities/drop")
                .and_then(Value::as_array)
                .is_some_and(|d| d.iter().any(|x| x == "ALL"));
        if !drops_all {
            let detail = (c.ptr != "/spec/containers/0").then(|| format!("container `{}`", c.name));
            return Verdict::found(
                pod,
                &caps::RUNTIME_DEFAULT,
                detail,
                origin(pod, &caps_ptr).or_else(|| origin(pod, &c.ptr)),
            );
        }
    }
    Verdict::found(
        pod,
        &caps::DROP_ALL,
        None,
        origin(pod, "/spec/containers/0/securityContext/capabilities"),
    )
}

/// Every user container mounts its image read-only
/// (`readOnlyRootFilesystem: true`, a container-only field), or one does not.
pub fn read_only_root(pod: &Pod, _: &Network) -> Verdict {
    if let Some(u) = ctx_unknown(pod) {
        return u;
    }
    for c in user_containers(pod) {
        let ptr = format!("{}/securityContext/readOnlyRootFilesystem", c.ptr);
        if c.c.at("/securityContext/readOnlyRootFilesystem") != Some(&Value::Bool(true)) {
            let detail = (c.ptr != "/spec/containers/0").then(|| format!("container `{}`", c.name));
            return Verdict::found(
                pod,
                &read_only::WRITABLE,
                detail,
                origin(pod, &ptr).or_else(|| origin(pod, &c.ptr)),
            );
        }
    }
    Verdict::found(
        pod,
        &read_only::READ_ONLY,
        None,
        origin(
            pod,
            "/spec/containers/0/securityContext/readOnlyRootFilesystem",
        ),
    )
}

/// Seccomp: RuntimeDefault, Localhost, or unset (or Unconfined).
pub fn seccomp(pod: &Pod, _: &Network) -> Verdict {
    if let Some(u) = ctx_unknown(pod) {
        return u;
    }
    let mut worst: Option<(Kind, Option<String>, Option<Origin>)> = None;
    for c in user_containers(pod) {
        let (p, ptr) = ctx(pod, &c, "seccompProfile");
        let (i, detail) = profile_rank(p, &c.name);
        if worst.as_ref().is_none_or(|w| i > w.0) {
            worst = Some((i, detail, origin(pod, &ptr)));
        }
    }
    found_profile(pod, &seccomp::PROFILES, worst)
}

/// The least confining profile found, as a setting of `profiles`' control.
fn found_profile(
    pod: &Pod,
    profiles: &Profiles,
    worst: Option<(Kind, Option<String>, Option<Origin>)>,
) -> Verdict {
    let (kind, d, o) = worst.unwrap_or((Kind::Unset, None, None));
    Verdict::found(pod, profiles.of(kind), d, o)
}

/// AppArmor: RuntimeDefault, Localhost or unset; the field, else the
/// beta annotation.
pub fn app_armor(pod: &Pod, _: &Network) -> Verdict {
    if let Some(u) = ctx_unknown(pod).or_else(|| unknown(pod, "/metadata")) {
        return u;
    }
    let mut worst: Option<(Kind, Option<String>, Option<Origin>)> = None;
    for c in user_containers(pod) {
        let (p, ptr) = ctx(pod, &c, "appArmorProfile");
        let (i, detail, o) = match p {
            Some(_) => {
                let (i, d) = profile_rank(p, &c.name);
                (i, d, origin(pod, &ptr))
            }
            None => {
                let key = format!("container.apparmor.security.beta.kubernetes.io/{}", c.name);
                let ann = pod
                    .json
                    .at("/metadata/annotations")
                    .and_then(|a| a.get(&key))
                    .and_then(Value::as_str);
                let o = origin(
                    pod,
                    &format!(
                        "/metadata/annotations/{}",
                        crate::paths::escape_pointer(&key)
                    ),
                );
                match ann {
                    Some("runtime/default") => (Kind::RuntimeDefault, None, o),
                    Some(s) if s.starts_with("localhost/") => (
                        Kind::Localhost,
                        Some(s["localhost/".len()..].to_string()),
                        o,
                    ),
                    _ => (
                        Kind::Unset,
                        (c.ptr != "/spec/containers/0").then(|| format!("container `{}`", c.name)),
                        o,
                    ),
                }
            }
        };
        if worst.as_ref().is_none_or(|w| i > w.0) {
            worst = Some((i, detail, o));
        }
    }
    found_profile(pod, &app_armor::PROFILES, worst)
}

fn profile_rank(p: Option<&Value>, container: &str) -> (Kind, Option<String>) {
    let ty = p.and_then(|p| p.get("type")).and_then(Value::as_str);
    match ty {
        Some("RuntimeDefault") => (Kind::RuntimeDefault, None),
        Some("Localhost") => (
            Kind::Localhost,
            p.and_then(|p| p.get("localhostProfile")).map(scalar_text),
        ),
        Some(other) => (
            Kind::Unset,
            Some(format!("`{other}` on container `{container}`")),
        ),
        None => (
            Kind::Unset,
            (container != "notebook").then(|| format!("container `{container}`")),
        ),
    }
}

/// The notebook's uid: fixed (detail `uid N`), or the image's own.
pub fn uid(pod: &Pod, _: &Network) -> Verdict {
    if let Some(u) = ctx_unknown(pod) {
        return u;
    }
    let ptr = "/spec/containers/0/securityContext/runAsUser";
    match pod.json.at(ptr).and_then(Value::as_i64) {
        Some(u) => Verdict::found(
            pod,
            &identity::FIXED,
            Some(format!("uid {u}")),
            origin(pod, ptr),
        ),
        None => Verdict::found(pod, &identity::IMAGE_DEFAULT, None, origin(pod, ptr)),
    }
}

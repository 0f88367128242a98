//! Reading a control's state off the effective pods: every container of
//! every pod, the weakest one deciding, each verdict naming the field's
//! origin. Graders return settings of the control they serve.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value;

use super::Pointer;

use super::Deployment;
use super::network::Network;
use super::origin::Origin;
use super::pod::Pod;
use super::profiles::FREE_FORM;
use super::spawner::scalar_text;
use crate::controls::Setting;
use crate::controls::api_access::api;
use crate::controls::images::{pin, pull};
use crate::controls::isolation::read_only;
use crate::controls::profiles::{Kind, Profiles, app_armor, seccomp};
use crate::controls::resources;
use crate::controls::user_pods::{caps, escalation, identity, non_root};

/// A setting found, the pod it was found in and what decided it.
#[derive(Debug, Clone)]
pub struct Found {
    pub setting: &'static Setting,
    pub detail: Option<String>,
    pub by: Option<Origin>,
    pub pod: String,
}

impl Found {
    /// At setting `s` (the very setting, not one that looks alike).
    pub fn is(&self, s: &Setting) -> bool {
        std::ptr::eq(self.setting, s)
    }
}

impl PartialEq for Found {
    fn eq(&self, other: &Found) -> bool {
        self.is(other.setting)
            && self.detail == other.detail
            && self.by == other.by
            && self.pod == other.pod
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Found(Found),
    /// Code or an override that cannot be read decides it.
    Unknown {
        reason: String,
        by: Origin,
    },
}

impl Verdict {
    pub fn found(
        pod: &Pod,
        setting: &'static Setting,
        detail: Option<String>,
        by: Option<Origin>,
    ) -> Verdict {
        Verdict::Found(Found {
            setting,
            detail,
            by,
            pod: pod.label.clone(),
        })
    }
}

/// The weakest verdict over all pods. An unknown pod makes the whole
/// unknown, unless another pod is already at the weakest setting (`max_rank`).
/// Verdicts are drawn one at a time and the draw stops at the first found at
/// `max_rank`: nothing after it can change the answer (only a strictly
/// weaker setting replaces the one kept, and none is weaker), so the pods
/// after it are not graded.
pub fn weakest(verdicts: impl IntoIterator<Item = Verdict>, max_rank: u8) -> Option<Verdict> {
    let mut best: Option<Found> = None;
    let mut unknown: Option<Verdict> = None;
    for v in verdicts {
        match v {
            Verdict::Found(f) => {
                // Graders return their own control's settings, none weaker
                // than its weakest: the first at `max_rank` is the answer.
                debug_assert!(
                    f.setting.rank <= max_rank,
                    "{} beyond rank {max_rank}",
                    f.setting.name
                );
                if f.setting.rank >= max_rank {
                    return Some(Verdict::Found(f));
                }
                if best
                    .as_ref()
                    .is_none_or(|b| f.setting.rank > b.setting.rank)
                {
                    best = Some(f);
                }
            }
            u @ Verdict::Unknown { .. } => {
                unknown.get_or_insert(u);
            }
        }
    }
    match (best, unknown) {
        (_, Some(u)) => Some(u),
        (b, None) => b.map(Verdict::Found),
    }
}

/// Applies a grader to every pod and keeps the weakest.
pub fn over_pods(
    d: &Deployment,
    max_rank: u8,
    f: impl Fn(&Pod, &Network) -> Verdict,
) -> Option<Verdict> {
    over(d.pods.iter(), max_rank, f)
}

/// Applies a grader to some pods and keeps the weakest.
pub fn over<'p>(
    pods: impl Iterator<Item = &'p (Pod, Arc<Network>)>,
    max_rank: u8,
    f: impl Fn(&Pod, &Network) -> Verdict,
) -> Option<Verdict> {
    weakest(pods.map(|(p, n)| f(p, n)), max_rank)
}

pub fn unknown(pod: &Pod, ptr: &str) -> Option<Verdict> {
    pod.unknown_at(ptr).map(|w| Verdict::Unknown {
        reason: format!("{} ({})", w.what, pod.label),
        by: w.origin.clone(),
    })
}

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

/// Where the field at `ptr` was set; inside a container or volume taken
/// from values as written, the field's own key.
pub fn origin(pod: &Pod, ptr: &str) -> Option<Origin> {
    // The pointer and each of its prefixes, longest first (no copies).
    let mut p = ptr;
    loop {
        if let Some(o) = pod.origins.get(p) {
            let item = p.starts_with("/spec/initContainers/")
                || p.starts_with("/spec/volumes/")
                || p.starts_with("/spec/containers/0/volumeMounts/")
                || (p.starts_with("/spec/containers/") && p != "/spec/containers/0");
            if !item || p.len() == ptr.len() {
                return Some(o.clone());
            }
            let rest: Vec<String> = ptr[p.len()..]
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| crate::paths::unescape_pointer(s).into_owned())
                .collect();
            return Some(if rest.is_empty() {
                o.clone()
            } else {
                o.child(&rest)
            });
        }
        match p.rfind('/') {
            Some(i) => p = &p[..i],
            None => return None,
        }
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

/// The service-account token: `none` not mounted, `workload-identity`
/// mounted (detail: the account; `api-access` works out what it may do).
pub fn token(pod: &Pod, _: &Network) -> Verdict {
    if let Some(u) = unknown(pod, "/spec/automountServiceAccountToken")
        .or_else(|| unknown(pod, "/spec/serviceAccountName"))
    {
        return u;
    }
    let automount = pod.json.at("/spec/automountServiceAccountToken");
    let sa = pod
        .json
        .at("/spec/serviceAccountName")
        .map(scalar_text)
        .filter(|s| !s.is_empty());
    if automount == Some(&Value::Bool(false)) {
        return Verdict::found(
            pod,
            &api::NONE,
            None,
            origin(pod, "/spec/automountServiceAccountToken"),
        );
    }
    let by = origin(pod, "/spec/serviceAccountName")
        .filter(|o| !matches!(o, Origin::Default { .. }))
        .or_else(|| origin(pod, "/spec/automountServiceAccountToken"));
    Verdict::found(
        pod,
        &api::WORKLOAD_IDENTITY,
        Some(sa.unwrap_or_else(|| "namespace default service account".into())),
        by,
    )
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

/// Limits on the notebook container: CPU and memory, one of them, or none.
pub fn limits(pod: &Pod, _: &Network) -> Verdict {
    if let Some(u) = unknown(pod, "/spec/containers/0/resources") {
        return u;
    }
    let l = pod.json.at("/spec/containers/0/resources/limits");
    let cpu = l.and_then(|l| l.get("cpu"));
    let mem = l.and_then(|l| l.get("memory"));
    let i = resources::classify(cpu.is_some(), mem.is_some());
    let missing = if cpu.is_none() { "cpu" } else { "memory" };
    let by = origin(
        pod,
        &format!("/spec/containers/0/resources/limits/{missing}"),
    );
    Verdict::found(pod, i, None, by)
}

/// Pull policy as the kubelet applies it: Always (set, or the default for
/// `:latest` and untagged images), IfNotPresent, or unset (the kubelet's
/// default for a tagged image).
pub fn pull_policy(pod: &Pod, _: &Network) -> Verdict {
    if let Some(u) = unknown(pod, "/spec/containers/0/imagePullPolicy") {
        return u;
    }
    let ptr = "/spec/containers/0/imagePullPolicy";
    match pod.json.at(ptr).and_then(Value::as_str) {
        Some("Always") => Verdict::found(pod, &pull::ALWAYS, None, origin(pod, ptr)),
        Some("IfNotPresent") => Verdict::found(pod, &pull::IF_NOT_PRESENT, None, origin(pod, ptr)),
        Some(other) => Verdict::found(
            pod,
            &pull::IF_NOT_PRESENT,
            Some(other.to_string()),
            origin(pod, ptr),
        ),
        None => {
            let image = pod
                .json
                .at("/spec/containers/0/image")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !image.is_empty() && image_is_latest(image) {
                Verdict::found(
                    pod,
                    &pull::ALWAYS,
                    Some("the kubelet's default for a `:latest` or untagged image".into()),
                    origin(pod, "/spec/containers/0/image"),
                )
            } else {
                Verdict::found(pod, &pull::CHART_DEFAULT, None, origin(pod, ptr))
            }
        }
    }
}

/// `name`, `name:latest` (and not a digest): the kubelet pulls Always.
pub fn image_is_latest(image: &str) -> bool {
    if image.contains('@') {
        return false;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => true,
        Some((_, tag)) => tag == "latest",
    }
}

/// The notebook image: by digest, by tag, or the chart's default image or a
/// name the user types in.
pub fn pinning(pod: &Pod, default_image: Option<&str>) -> Verdict {
    if let Some(u) = unknown(pod, "/spec/containers/0/image") {
        return u;
    }
    let ptr = "/spec/containers/0/image";
    if let Some((_, o)) = pod.free_form.iter().find(|(p, _)| p.starts_with(ptr)) {
        return Verdict::found(
            pod,
            &pin::CHART_DEFAULT,
            Some("any image a user types in (free-form choice)".into()),
            Some(o.clone()),
        );
    }
    let image = pod.json.at(ptr).and_then(Value::as_str).unwrap_or("");
    if image.contains(FREE_FORM) {
        return Verdict::found(
            pod,
            &pin::CHART_DEFAULT,
            Some("any image a user types in".into()),
            origin(pod, ptr),
        );
    }
    if image.contains("@sha256:") {
        let name = image.split('@').next().unwrap_or(image);
        let name = name
            .rsplit_once(':')
            .map_or(name, |(n, t)| if t.contains('/') { name } else { n });
        return Verdict::found(pod, &pin::DIGEST, Some(name.to_string()), origin(pod, ptr));
    }
    if default_image == Some(image) || image.is_empty() {
        return Verdict::found(pod, &pin::CHART_DEFAULT, None, origin(pod, ptr));
    }
    Verdict::found(pod, &pin::TAG, Some(image.to_string()), origin(pod, ptr))
}

pub use super::reach::{blocks_metadata, egress, metadata};

#[cfg(test)]
mod tests {
    use super::super::Deployment;
    use super::*;
    use serde_json::json;

    fn chart() -> Value {
        json!({"singleuser": {
            "uid": 1000, "fsGid": 100, "allowPrivilegeEscalation": false,
            "image": {"name": "img", "tag": "1.0"},
            "cloudMetadata": {"blockWithIptables": true, "ip": "169.254.169.254"},
            "networkTools": {"image": {"name": "nt", "tag": "2"}},
            "networkPolicy": {"enabled": true, "egress": [], "egressAllowRules": {"cloudMetadataServer": false,
                "dnsPortsCloudMetadataServer": true, "dnsPortsKubeSystemNamespace": true, "dnsPortsPrivateIPs": true,
                "nonPrivateIPs": true, "privateIPs": false}},
        }})
    }

    fn judge(v: &Value, f: impl Fn(&Pod, &Network) -> Verdict, max_rank: u8) -> Verdict {
        over_pods(&Deployment::build(v, Some("4.4.0"), &[]), max_rank, &f).unwrap()
    }

    /// The setting's name (`?` when unknown) and detail.
    fn index(v: Verdict) -> (&'static str, Option<String>) {
        match v {
            Verdict::Found(f) => (f.setting.name, f.detail),
            Verdict::Unknown { reason, .. } => ("?", Some(reason)),
        }
    }

    #[test]
    fn the_weakest_is_drawn_until_a_pod_is_at_the_weakest_rank() {
        let found = |s: &'static Setting, pod: &str| {
            Verdict::Found(Found {
                setting: s,
                detail: None,
                by: None,
                pod: pod.into(),
            })
        };
        let unknown = || Verdict::Unknown {
            reason: "code".into(),
            by: Origin::default("x"),
        };
        let (strong, weak) = (&escalation::DENIED, &escalation::ALLOWED);
        let max = weak.rank;
        // The first pod at the weakest rank decides; later pods are never graded.
        let drawn = std::cell::Cell::new(0);
        let vs = [found(strong, "a"), found(weak, "b"), found(weak, "c")];
        let v = weakest(vs.into_iter().inspect(|_| drawn.set(drawn.get() + 1)), max);
        assert_eq!(v, Some(found(weak, "b")));
        assert_eq!(drawn.get(), 2);
        // An unknown pod outweighs a stronger reading, not one at the weakest.
        assert_eq!(
            weakest([found(strong, "a"), unknown()], max),
            Some(unknown())
        );
        assert_eq!(
            weakest([unknown(), found(weak, "b")], max),
            Some(found(weak, "b"))
        );
        assert_eq!(weakest([found(strong, "a")], max), Some(found(strong, "a")));
        assert_eq!(weakest(Vec::new(), max), None);
    }

    #[test]
    fn init_containers_are_graded() {
        let mut v = chart();
        v["singleuser"]["initContainers"] = json!([{"name": "setup", "image": "x",
            "securityContext": {"runAsUser": 0, "capabilities": {"add": ["NET_ADMIN"]}}}]);
        assert_eq!(
            index(judge(&v, run_as_non_root, 1)),
            (
                "not-required",
                Some("container `setup` runs as uid 0".into())
            )
        );
        assert_eq!(
            index(judge(&v, capabilities, 1)),
            (
                "runtime-default",
                Some("container `setup` adds NET_ADMIN".into())
            )
        );
    }

    #[test]
    fn the_chart_blocker_is_not_a_user_container_but_blocks_tcp_80() {
        let mut v = chart();
        assert_eq!(index(judge(&v, privilege_escalation, 1)), ("denied", None));
        // The chart's own rules keep the metadata address out, but the
        // privileged blocker is there all the same.
        let m = |v: &Value| index(judge(v, |p, n| metadata(p, n, "169.254.169.254"), 3)).0;
        assert_eq!(m(&v), "iptables");
        v["singleuser"]["networkPolicy"]["egressAllowRules"]["cloudMetadataServer"] = json!(true);
        assert_eq!(
            m(&v),
            "iptables",
            "every port is open, but the iptables setting is TCP/80 only"
        );
        v["singleuser"]["networkPolicy"]["egressAllowRules"]["cloudMetadataServer"] = json!(false);
        v["singleuser"]["networkPolicy"]["egress"] =
            json!([{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 80}]}]);
        assert_eq!(
            m(&v),
            "iptables",
            "only TCP/80 is open and iptables drops it"
        );
    }

    #[test]
    fn metadata_open_through_a_custom_rule() {
        let mut v = chart();
        v["singleuser"]["cloudMetadata"]["blockWithIptables"] = json!(false);
        v["singleuser"]["networkPolicy"]["egress"] = json!([{"to": [{"ipBlock": {"cidr": "0.0.0.0/0",
            "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}],
            "ports": [{"port": 80, "protocol": "TCP"}, {"port": 443, "protocol": "TCP"}]}]);
        let Verdict::Found(f) = judge(&v, |p, n| metadata(p, n, "169.254.169.254"), 3) else {
            panic!()
        };
        assert_eq!(f.setting.name, "allow");
        assert_eq!(
            f.by,
            Some(Origin::values(&[
                "singleuser",
                "networkPolicy",
                "egress",
                "0",
                "to",
                "0",
                "ipBlock",
                "cidr"
            ]))
        );
    }

    #[test]
    fn python_privileged_is_read_and_hooks_are_unknown() {
        let mut v = chart();
        v["hub"] = json!({"extraConfig": {"a": "c.KubeSpawner.privileged = True"}});
        assert_eq!(
            index(judge(&v, privilege_escalation, 1)),
            ("allowed", Some("privileged".into()))
        );
        v["hub"] = json!({"extraConfig": {"a": "c.KubeSpawner.modify_pod_hook = add_root_init"}});
        assert_eq!(index(judge(&v, privilege_escalation, 1)).0, "?");
    }

    #[test]
    fn latest_is_pulled_always() {
        let mut v = chart();
        v["singleuser"]["image"]["tag"] = json!("latest");
        assert_eq!(index(judge(&v, pull_policy, 2)).0, "always");
        assert!(image_is_latest("repo/img"));
        assert!(!image_is_latest("host:5000/img:1"));
        assert!(image_is_latest("host:5000/img"));
    }

    #[test]
    fn every_port_to_everything_is_not_http_https() {
        let mut v = chart();
        v["singleuser"]["networkPolicy"]["egressAllowRules"]["nonPrivateIPs"] = json!(false);
        v["singleuser"]["networkPolicy"]["egress"] =
            json!([{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]);
        let d = Deployment::build(&v, None, &[]);
        let (p, n) = d.first().unwrap();
        let (verdict, private) = egress(p, n);
        assert_eq!(index(verdict).0, "internet");
        assert!(private);
    }
}

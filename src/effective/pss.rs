//! The Pod Security Standards, checked on an effective pod: every baseline
//! and restricted rule of the Kubernetes `pod-security-admission` checks,
//! over init, regular and ephemeral containers. A pod meets the strongest
//! level none of whose rules it breaks.
//!
//! Version gates are read at their newest: a rule relaxed in a later
//! release (safe sysctls, `hostUsers: false` exemptions) is applied in its
//! stricter form, so an older cluster never makes a pod look stronger here
//! than the API server would judge it.

use serde_json::Value;

use super::Pointer;

use super::grade::{Verdict, origin};
use super::network::Network;
use super::pod::Pod;
use super::spawner::scalar_text;

/// A Pod Security Standards level, strongest first (each a setting of the
/// `user-pod-level` control).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Restricted,
    Baseline,
    Privileged,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Restricted => "restricted",
            Level::Baseline => "baseline",
            Level::Privileged => "privileged",
        }
    }
}

/// One rule a pod breaks.
#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    /// The strongest level the pod can still meet: a baseline rule broken
    /// leaves `Privileged`, a restricted-only rule leaves `Baseline`.
    pub leaves: Level,
    /// The rule's name in the Pod Security Standards.
    pub rule: &'static str,
    /// JSON pointer of the offending field.
    pub ptr: String,
    pub what: String,
}

/// Capabilities baseline allows a container to add.
const BASELINE_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Sysctls baseline allows.
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];

/// Volume sources restricted allows.
const RESTRICTED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
    "image",
];

const SELINUX_TYPES: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// Every rule the pod breaks, in the order the standards list them.
pub fn breaches(pod: &Value) -> Vec<Breach> {
    let mut out = Vec::new();
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    let containers = containers(spec);
    baseline(pod, spec, &containers, &mut out);
    restricted(spec, &containers, &mut out);
    out
}

/// The strongest level the pod meets.
pub fn level(breaches: &[Breach]) -> Level {
    breaches
        .iter()
        .map(|b| b.leaves)
        .max()
        .unwrap_or(Level::Restricted)
}

/// Grader: the level the pod meets, the first rule that
/// keeps it from the next level up as detail and origin.
pub fn pod_level(pod: &Pod, _: &Network) -> Verdict {
    if let Some((_, w)) = pod.unknown.first() {
        return Verdict::Unknown {
            reason: format!("{} ({})", w.what, pod.label),
            by: w.origin.clone(),
        };
    }
    let found = breaches(&pod.json);
    let at = level(&found);
    let deciding: Vec<&Breach> = found.iter().filter(|b| b.leaves == at).collect();
    let Some(first) = deciding.first() else {
        return Verdict::found(pod, crate::controls::pod_level::of(at), None, None);
    };
    let rules: std::collections::BTreeSet<&str> = deciding.iter().map(|b| b.rule).collect();
    let mut detail = first.what.clone();
    if rules.len() > 1 {
        let others: Vec<&str> = rules.into_iter().filter(|r| *r != first.rule).collect();
        detail.push_str(&format!("; also breaks {}", others.join(", ")));
    }
    Verdict::found(
        pod,
        crate::controls::pod_level::of(at),
        Some(detail),
        origin(pod, &first.ptr),
    )
}

struct Ctr<'a> {
    ptr: String,
    name: String,
    c: &'a Value,
}

fn containers(spec: &Value) -> Vec<Ctr<'_>> {
    let mut out = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        if let Some(Value::Array(a)) = spec.get(list) {
            for (i, c) in a.iter().enumerate() {
                out.push(Ctr {
                    ptr: format!("/spec/{list}/{i}"),
                    name: c.get("name").map(scalar_text).unwrap_or_else(|| "?".into()),
                    c,
                });
            }
        }
    }
    out
}

fn is_true(v: Option<&Value>) -> bool {
    v == Some(&Value::Bool(true))
}

fn text(v: &Value) -> String {
    scalar_text(v)
}

fn push(out: &mut Vec<Breach>, leaves: Level, rule: &'static str, ptr: String, what: String) {
    out.push(Breach {
        leaves,
        rule,
        ptr,
        what,
    });
}

fn baseline(pod: &Value, spec: &Value, cs: &[Ctr], out: &mut Vec<Breach>) {
    let b = Level::Privileged;
    for (key, ns) in [
        ("hostNetwork", "network"),
        ("hostPID", "process"),
        ("hostIPC", "IPC"),
    ] {
        if is_true(spec.get(key)) {
            push(
                out,
                b,
                "host namespaces",
                format!("/spec/{key}"),
                format!("the pod shares the node's {ns} namespace (`{key}: true`)"),
            );
        }
    }
    for c in cs {
        if is_true(c.c.at("/securityContext/privileged")) {
            push(
                out,
                b,
                "privileged containers",
                format!("{}/securityContext/privileged", c.ptr),
                format!("container `{}` is privileged", c.name),
            );
        }
        if let Some(Value::Array(add)) = c.c.at("/securityContext/capabilities/add") {
            for (i, cap) in add.iter().enumerate() {
                let cap = text(cap);
                if !BASELINE_CAPS.contains(&cap.as_str()) {
                    push(
                        out,
                        b,
                        "capabilities",
                        format!("{}/securityContext/capabilities/add/{i}", c.ptr),
                        format!("container `{}` adds {cap}", c.name),
                    );
                }
            }
        }
        if let Some(Value::Array(ports)) = c.c.get("ports") {
            for (i, p) in ports.iter().enumerate() {
                if p.get("hostPort")
                    .and_then(Value::as_f64)
                    .is_some_and(|h| h != 0.0)
                {
                    push(
                        out,
                        b,
                        "host ports",
                        format!("{}/ports/{i}/hostPort", c.ptr),
                        format!("container `{}` binds a port on the node", c.name),
                    );
                }
            }
        }
        if c.c.at("/securityContext/windowsOptions/hostProcess") == Some(&Value::Bool(true)) {
            push(
                out,
                b,
                "HostProcess",
                format!("{}/securityContext/windowsOptions/hostProcess", c.ptr),
                format!("container `{}` is a Windows HostProcess container", c.name),
            );
        }
        if let Some(m) = c.c.at("/securityContext/procMount") {
            let m = text(m);
            if m != "Default" && !m.is_empty() {
                push(
                    out,
                    b,
                    "/proc mount type",
                    format!("{}/securityContext/procMount", c.ptr),
                    format!("container `{}` mounts /proc as `{m}`", c.name),
                );
            }
        }
        for probe in [
            "livenessProbe",
            "readinessProbe",
            "startupProbe",
            "lifecycle/postStart",
            "lifecycle/preStop",
        ] {
            let root = probe.split('/').next().unwrap_or(probe);
            if c.c.get(root).is_none() {
                continue;
            }
            for handler in ["httpGet", "tcpSocket"] {
                let ptr = format!("/{probe}/{handler}/host");
                if let Some(h) = c.c.at(&ptr).filter(|h| !text(h).is_empty()) {
                    push(
                        out,
                        b,
                        "probes and lifecycle hooks",
                        format!("{}{ptr}", c.ptr),
                        format!(
                            "container `{}` probes the host `{}` (only the pod's own address is allowed)",
                            c.name,
                            text(h)
                        ),
                    );
                }
            }
        }
    }
    if let Some(Value::Array(vols)) = spec.get("volumes") {
        for (i, v) in vols.iter().enumerate() {
            if let Some(h) = v.get("hostPath") {
                let path = h.get("path").map(text).unwrap_or_default();
                push(
                    out,
                    b,
                    "HostPath volumes",
                    format!("/spec/volumes/{i}/hostPath"),
                    format!(
                        "volume `{}` mounts the node's `{path}`",
                        v.get("name").map(text).unwrap_or_default()
                    ),
                );
            }
        }
    }
    // AppArmor: neither the field nor the beta annotation may be unconfined.
    let mut profiles = vec![("/spec/securityContext".to_string(), "the pod".to_string())];
    profiles.extend(cs.iter().map(|c| {
        (
            format!("{}/securityContext", c.ptr),
            format!("container `{}`", c.name),
        )
    }));
    for (ctx, who) in &profiles {
        // Each field is read under the context, found once.
        let Some(sc) = pod.at(ctx) else {
            continue;
        };
        if let Some(t) = sc.at("/appArmorProfile/type").map(text)
            && t != "RuntimeDefault"
            && t != "Localhost"
        {
            push(
                out,
                b,
                "AppArmor",
                format!("{ctx}/appArmorProfile/type"),
                format!("{who} runs with AppArmor profile `{t}`"),
            );
        }
        if sc.at("/seccompProfile/type").map(text).as_deref() == Some("Unconfined") {
            push(
                out,
                b,
                "Seccomp",
                format!("{ctx}/seccompProfile/type"),
                format!("{who} runs without seccomp (`Unconfined`)"),
            );
        }
        let selinux = sc.get("seLinuxOptions");
        for (field, ok) in [
            ("type", SELINUX_TYPES),
            ("user", &[""][..]),
            ("role", &[""][..]),
        ] {
            if let Some(v) = selinux.and_then(|o| o.get(field)).map(text)
                && !ok.contains(&v.as_str())
            {
                push(
                    out,
                    b,
                    "SELinux",
                    format!("{ctx}/seLinuxOptions/{field}"),
                    format!("{who} sets SELinux {field} `{v}`"),
                );
            }
        }
    }
    if let Some(Value::Object(ann)) = pod.at("/metadata/annotations") {
        for (k, v) in ann {
            if k.starts_with("container.apparmor.security.beta.kubernetes.io/") {
                let v = text(v);
                if !(v.is_empty() || v == "runtime/default" || v.starts_with("localhost/")) {
                    push(
                        out,
                        b,
                        "AppArmor",
                        format!("/metadata/annotations/{}", crate::paths::escape_pointer(k)),
                        format!("annotation `{k}` is `{v}`"),
                    );
                }
            }
        }
    }
    if let Some(Value::Array(sysctls)) = spec.at("/securityContext/sysctls") {
        for (i, s) in sysctls.iter().enumerate() {
            let name = s.get("name").map(text).unwrap_or_default();
            if !SAFE_SYSCTLS.contains(&name.as_str()) {
                push(
                    out,
                    b,
                    "Sysctls",
                    format!("/spec/securityContext/sysctls/{i}"),
                    format!("the pod sets the unsafe sysctl `{name}`"),
                );
            }
        }
    }
}

fn restricted(spec: &Value, cs: &[Ctr], out: &mut Vec<Breach>) {
    let r = Level::Baseline;
    if let Some(Value::Array(vols)) = spec.get("volumes") {
        for (i, v) in vols.iter().enumerate() {
            let Some(m) = v.as_object() else { continue };
            for k in m.keys().filter(|k| *k != "name") {
                if !RESTRICTED_VOLUMES.contains(&k.as_str()) {
                    push(
                        out,
                        r,
                        "Volume types",
                        format!("/spec/volumes/{i}/{k}"),
                        format!(
                            "volume `{}` is an inline `{k}` volume",
                            m.get("name").map(text).unwrap_or_default()
                        ),
                    );
                }
            }
        }
    }
    let windows = spec.at("/os/name").map(text).as_deref() == Some("windows");
    let pod_nonroot = spec.at("/securityContext/runAsNonRoot");
    if pod_nonroot == Some(&Value::Bool(false)) {
        push(
            out,
            r,
            "Running as Non-root",
            "/spec/securityContext/runAsNonRoot".into(),
            "the pod sets `runAsNonRoot: false`".into(),
        );
    }
    if spec
        .at("/securityContext/runAsUser")
        .and_then(Value::as_f64)
        == Some(0.0)
    {
        push(
            out,
            r,
            "Running as Non-root user",
            "/spec/securityContext/runAsUser".into(),
            "the pod runs as uid 0".into(),
        );
    }
    let pod_seccomp = spec.at("/securityContext/seccompProfile/type").map(text);
    let seccomp_ok = |t: Option<&str>| matches!(t, Some("RuntimeDefault" | "Localhost"));
    for c in cs {
        let ctx = c.c.get("securityContext");
        let sc = |f: &str| ctx.and_then(|x| x.get(f));
        if !windows && sc("allowPrivilegeEscalation") != Some(&Value::Bool(false)) {
            push(
                out,
                r,
                "Privilege Escalation",
                format!("{}/securityContext/allowPrivilegeEscalation", c.ptr),
                format!(
                    "container `{}` does not set `allowPrivilegeEscalation: false`",
                    c.name
                ),
            );
        }
        match sc("runAsNonRoot") {
            Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => push(
                out,
                r,
                "Running as Non-root",
                format!("{}/securityContext/runAsNonRoot", c.ptr),
                format!("container `{}` sets `runAsNonRoot: false`", c.name),
            ),
            _ if is_true(pod_nonroot) => {}
            _ => push(
                out,
                r,
                "Running as Non-root",
                format!("{}/securityContext/runAsNonRoot", c.ptr),
                format!(
                    "container `{}` may run as root (`runAsNonRoot` is not true)",
                    c.name
                ),
            ),
        }
        if sc("runAsUser").and_then(Value::as_f64) == Some(0.0) {
            push(
                out,
                r,
                "Running as Non-root user",
                format!("{}/securityContext/runAsUser", c.ptr),
                format!("container `{}` runs as uid 0", c.name),
            );
        }
        let own = sc("seccompProfile").and_then(|p| p.get("type")).map(text);
        let effective = own.clone().or_else(|| pod_seccomp.clone());
        if !seccomp_ok(effective.as_deref()) && effective.as_deref() != Some("Unconfined") {
            push(
                out,
                r,
                "Seccomp",
                format!("{}/securityContext/seccompProfile", c.ptr),
                format!(
                    "container `{}` has no seccomp profile (RuntimeDefault or Localhost)",
                    c.name
                ),
            );
        }
        let drops_all = sc("capabilities")
            .and_then(|x| x.get("drop"))
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|x| text(x) == "ALL"));
        if !windows && !drops_all {
            push(
                out,
                r,
                "Capabilities",
                format!("{}/securityContext/capabilities/drop", c.ptr),
                format!("container `{}` does not drop ALL capabilities", c.name),
            );
        }
        if let Some(Value::Array(add)) = sc("capabilities").and_then(|x| x.get("add")) {
            for (i, cap) in add.iter().enumerate() {
                let cap = text(cap);
                if cap != "NET_BIND_SERVICE" && BASELINE_CAPS.contains(&cap.as_str()) {
                    push(
                        out,
                        r,
                        "Capabilities",
                        format!("{}/securityContext/capabilities/add/{i}", c.ptr),
                        format!("container `{}` adds {cap}", c.name),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn hardened() -> Value {
        json!({
            "metadata": {"annotations": {}},
            "spec": {
                "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}, "fsGroup": 100},
                "containers": [{
                    "name": "notebook",
                    "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsUser": 1000},
                    "ports": [{"containerPort": 8888}],
                }],
                "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "claim-user1"}}],
            }
        })
    }

    fn rules(pod: &Value) -> Vec<(&'static str, Level)> {
        breaches(pod).iter().map(|b| (b.rule, b.leaves)).collect()
    }

    #[test]
    fn a_hardened_pod_is_restricted() {
        assert_eq!(breaches(&hardened()), vec![]);
        assert_eq!(level(&breaches(&hardened())), Level::Restricted);
    }

    #[test]
    fn each_baseline_rule_leaves_privileged() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("/spec/hostNetwork", json!(true), "host namespaces"),
            ("/spec/hostPID", json!(true), "host namespaces"),
            (
                "/spec/containers/0/securityContext/privileged",
                json!(true),
                "privileged containers",
            ),
            (
                "/spec/containers/0/securityContext/capabilities/add",
                json!(["NET_ADMIN"]),
                "capabilities",
            ),
            (
                "/spec/containers/0/ports/0/hostPort",
                json!(8888),
                "host ports",
            ),
            (
                "/spec/containers/0/securityContext/procMount",
                json!("Unmasked"),
                "/proc mount type",
            ),
            (
                "/spec/securityContext/seccompProfile/type",
                json!("Unconfined"),
                "Seccomp",
            ),
            (
                "/spec/securityContext/sysctls",
                json!([{"name": "kernel.msgmax", "value": "1"}]),
                "Sysctls",
            ),
            (
                "/spec/securityContext/seLinuxOptions",
                json!({"type": "spc_t"}),
                "SELinux",
            ),
            (
                "/spec/containers/0/securityContext/appArmorProfile",
                json!({"type": "Unconfined"}),
                "AppArmor",
            ),
            (
                "/spec/containers/0/livenessProbe",
                json!({"httpGet": {"host": "10.0.0.1", "port": 80}}),
                "probes and lifecycle hooks",
            ),
        ];
        for (ptr, value, rule) in cases {
            let mut pod = hardened();
            set(&mut pod, ptr, value);
            let got = rules(&pod);
            assert!(
                got.contains(&(rule, Level::Privileged)),
                "{ptr}: expected a baseline breach `{rule}`, got {got:?}"
            );
            assert_eq!(level(&breaches(&pod)), Level::Privileged, "{ptr}");
        }
    }

    #[test]
    fn host_path_and_inline_nfs_volumes() {
        let mut pod = hardened();
        pod["spec"]["volumes"] = json!([
            {"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}},
            {"name": "data", "nfs": {"server": "10.0.0.2", "path": "/export"}},
        ]);
        let got = breaches(&pod);
        assert_eq!(got[0].rule, "HostPath volumes");
        assert_eq!(got[0].ptr, "/spec/volumes/0/hostPath");
        assert!(got[0].what.contains("/var/run/docker.sock"));
        // The hostPath is both a baseline breach and an unlisted volume type.
        assert!(
            got.iter()
                .any(|b| b.rule == "Volume types" && b.ptr == "/spec/volumes/1/nfs")
        );
        assert_eq!(level(&got), Level::Privileged);
        pod["spec"]["volumes"] =
            json!([{"name": "data", "nfs": {"server": "10.0.0.2", "path": "/export"}}]);
        assert_eq!(level(&breaches(&pod)), Level::Baseline);
    }

    #[test]
    fn restricted_rules_cover_init_and_ephemeral_containers() {
        for list in ["initContainers", "ephemeralContainers"] {
            let mut pod = hardened();
            pod["spec"][list] = json!([{"name": "setup", "image": "busybox"}]);
            let got = rules(&pod);
            for rule in ["Privilege Escalation", "Capabilities"] {
                assert!(got.contains(&(rule, Level::Baseline)), "{list}: {got:?}");
            }
            // The pod-level runAsNonRoot and seccomp cover the new container.
            assert!(!got.iter().any(|(r, _)| *r == "Running as Non-root"));
            assert!(!got.iter().any(|(r, _)| *r == "Seccomp"));
            assert_eq!(level(&breaches(&pod)), Level::Baseline);
        }
    }

    #[test]
    fn non_root_and_seccomp_may_be_set_per_container() {
        let mut pod = hardened();
        pod["spec"]["securityContext"] = json!({});
        assert!(
            rules(&pod).contains(&("Running as Non-root", Level::Baseline)),
            "no runAsNonRoot anywhere"
        );
        pod["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] = json!(true);
        pod["spec"]["containers"][0]["securityContext"]["seccompProfile"] =
            json!({"type": "Localhost", "localhostProfile": "x.json"});
        assert_eq!(breaches(&pod), vec![]);
        pod["spec"]["containers"][0]["securityContext"]["runAsUser"] = json!(0);
        assert_eq!(
            rules(&pod),
            vec![("Running as Non-root user", Level::Baseline)]
        );
    }

    #[test]
    fn baseline_capabilities_are_restricted_breaches_only() {
        let mut pod = hardened();
        pod["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] =
            json!(["CHOWN", "NET_BIND_SERVICE"]);
        assert_eq!(rules(&pod), vec![("Capabilities", Level::Baseline)]);
    }

    fn set(pod: &mut Value, ptr: &str, value: Value) {
        let mut cur = pod;
        for key in ptr.trim_start_matches('/').split('/') {
            cur = match key.parse::<usize>() {
                Ok(i) => {
                    if !cur.is_array() {
                        *cur = json!([]);
                    }
                    let a = cur.as_array_mut().unwrap();
                    while a.len() <= i {
                        a.push(json!({}));
                    }
                    &mut a[i]
                }
                Err(_) => {
                    if !cur.is_object() {
                        *cur = json!({});
                    }
                    cur.as_object_mut()
                        .unwrap()
                        .entry(key.to_string())
                        .or_insert(Value::Null)
                }
            };
        }
        *cur = value;
    }
}

//! Violations of the `restricted` preset: each mutated pod is refused by the validation it breaks.

use super::*;

/// Violations of the `restricted` preset, each with the validations (by
/// message prefix: control and policy field) that must refuse it — no more,
/// no fewer.
const RESTRICTED: &[Mutation] = &[
    (
        "root uid",
        |p| sc(p)["runAsUser"] = json!(0),
        &[
            "user-identity (spec.userPods.identity.uid)",
            "run-as-non-root (spec.userPods.runAsNonRoot)",
        ],
    ),
    (
        "runAsNonRoot false",
        |p| {
            sc(p)["runAsNonRoot"] = json!(false);
        },
        &["run-as-non-root (spec.userPods.runAsNonRoot)"],
    ),
    (
        "runAsNonRoot nowhere",
        |p| {
            sc(p).as_object_mut().unwrap().remove("runAsNonRoot");
            p["spec"]["securityContext"]
                .as_object_mut()
                .unwrap()
                .remove("runAsNonRoot");
        },
        &["run-as-non-root (spec.userPods.runAsNonRoot)"],
    ),
    (
        "another uid",
        |p| sc(p)["runAsUser"] = json!(1001),
        &["user-identity (spec.userPods.identity.uid)"],
    ),
    (
        "privileged",
        |p| sc(p)["privileged"] = json!(true),
        &[
            "privilege-escalation (spec.userPods.allowPrivilegeEscalation): no container may be privileged",
        ],
    ),
    (
        "escalation allowed",
        |p| sc(p)["allowPrivilegeEscalation"] = json!(true),
        &[
            "privilege-escalation (spec.userPods.allowPrivilegeEscalation): every container must set",
        ],
    ),
    (
        "escalation unset",
        |p| {
            sc(p)
                .as_object_mut()
                .unwrap()
                .remove("allowPrivilegeEscalation");
        },
        &[
            "privilege-escalation (spec.userPods.allowPrivilegeEscalation): every container must set",
        ],
    ),
    (
        "extra capability",
        |p| sc(p)["capabilities"]["add"] = json!(["NET_RAW"]),
        &["capabilities (spec.userPods.capabilities): no container may add"],
    ),
    (
        "ALL not dropped",
        |p| sc(p)["capabilities"]["drop"] = json!(["NET_RAW"]),
        &["capabilities (spec.userPods.capabilities): every container must drop ALL"],
    ),
    (
        "token mounted",
        |p| p["spec"]["automountServiceAccountToken"] = json!(true),
        &["api-access (spec.apiAccess.mode)"],
    ),
    (
        "token automount unset",
        |p| {
            p["spec"]
                .as_object_mut()
                .unwrap()
                .remove("automountServiceAccountToken");
        },
        &["api-access (spec.apiAccess.mode)"],
    ),
    (
        "projected token volume",
        |p| {
            p["spec"]["volumes"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "tok", "projected": {"sources": [
            {"serviceAccountToken": {"path": "token"}}]}}));
        },
        &["api-access (spec.apiAccess.mode)"],
    ),
    (
        "missing CPU limit",
        |p| {
            p["spec"]["containers"][0]["resources"]["limits"]
                .as_object_mut()
                .unwrap()
                .remove("cpu");
        },
        &["resources (spec.resources.cpu.limit)"],
    ),
    (
        "CPU limit above the policy",
        |p| p["spec"]["containers"][0]["resources"]["limits"]["cpu"] = json!("2001m"),
        &["resources (spec.resources.cpu.limit)"],
    ),
    (
        "memory limit above the policy",
        |p| p["spec"]["containers"][0]["resources"]["limits"]["memory"] = json!("4097Mi"),
        &["resources (spec.resources.memory.limit)"],
    ),
    (
        "memory limit in decimal units above the policy",
        |p| p["spec"]["containers"][0]["resources"]["limits"]["memory"] = json!("4.3G"),
        &["resources (spec.resources.memory.limit)"],
    ),
    (
        "missing ephemeral-storage limit",
        |p| {
            p["spec"]["containers"][0]["resources"]["limits"]
                .as_object_mut()
                .unwrap()
                .remove("ephemeral-storage");
        },
        &["resources (spec.resources.ephemeralStorage.limit)"],
    ),
    (
        "no resources at all",
        |p| {
            p["spec"]["containers"][0]
                .as_object_mut()
                .unwrap()
                .remove("resources");
        },
        &[
            "resources (spec.resources.cpu.limit)",
            "resources (spec.resources.memory.limit)",
            "resources (spec.resources.ephemeralStorage.limit)",
        ],
    ),
    (
        "hostPath volume",
        |p| {
            p["spec"]["volumes"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "node", "hostPath": {"path": "/"}}));
        },
        &["admission (spec.admission.mode): the pod must not mount a hostPath volume"],
    ),
    (
        "host network",
        |p| p["spec"]["hostNetwork"] = json!(true),
        &["admission (spec.admission.mode): the pod must not use the node's"],
    ),
    (
        "host PID",
        |p| p["spec"]["hostPID"] = json!(true),
        &["admission (spec.admission.mode): the pod must not use the node's"],
    ),
    (
        "missing seccomp",
        |p| {
            p["spec"]["securityContext"]
                .as_object_mut()
                .unwrap()
                .remove("seccompProfile");
        },
        &["seccomp (spec.userPods.seccomp)"],
    ),
    (
        "seccomp unconfined",
        |p| sc(p)["seccompProfile"] = json!({"type": "Unconfined"}),
        &["seccomp (spec.userPods.seccomp)"],
    ),
    (
        "AppArmor unconfined",
        |p| sc(p)["appArmorProfile"] = json!({"type": "Unconfined"}),
        &["apparmor (spec.userPods.appArmor)"],
    ),
    (
        "pull policy Never",
        |p| p["spec"]["containers"][0]["imagePullPolicy"] = json!("Never"),
        &["image-pull-policy (spec.images.pullPolicy)"],
    ),
    (
        "a root init container",
        |p| {
            p["spec"]["initContainers"] = json!([{"name": "setup", "image": "busybox:1.36", "imagePullPolicy": "IfNotPresent",
            "securityContext": {"runAsUser": 0}}]);
        },
        &[
            "user-identity (spec.userPods.identity.uid)",
            "run-as-non-root (spec.userPods.runAsNonRoot)",
            "privilege-escalation (spec.userPods.allowPrivilegeEscalation): every container must set",
            "capabilities (spec.userPods.capabilities): every container must drop ALL",
            "apparmor (spec.userPods.appArmor)",
            "resources (spec.resources.cpu.limit)",
            "resources (spec.resources.memory.limit)",
            "resources (spec.resources.ephemeralStorage.limit)",
        ],
    ),
    (
        "a privileged debug container",
        |p| {
            debug_container(
                p,
                json!({"name": "debugger", "image": "busybox:1.36",
        "imagePullPolicy": "IfNotPresent", "securityContext": {"privileged": true, "runAsUser": 1000,
        "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "appArmorProfile": {"type": "RuntimeDefault"}}}),
            )
        },
        &[
            "privilege-escalation (spec.userPods.allowPrivilegeEscalation): no container may be privileged",
        ],
    ),
    (
        "a debug container adding a capability",
        |p| {
            debug_container(
                p,
                json!({"name": "debugger", "image": "busybox:1.36",
        "imagePullPolicy": "IfNotPresent", "securityContext": {"runAsUser": 1000, "allowPrivilegeEscalation": false,
        "capabilities": {"drop": ["ALL"], "add": ["SYS_PTRACE"]}, "appArmorProfile": {"type": "RuntimeDefault"}}}),
            )
        },
        &["capabilities (spec.userPods.capabilities): no container may add"],
    ),
    (
        "an impostor of the metadata blocker",
        |p| {
            p["spec"]["initContainers"] = json!([{"name": "block-cloud-metadata", "image": "quay.io/jupyterhub/k8s-network-tools:4.4.0",
            "imagePullPolicy": "IfNotPresent",
            "command": ["iptables", "--append", "OUTPUT", "--protocol", "tcp", "--destination", "169.254.169.254",
                "--destination-port", "80", "--jump", "DROP"],
            "securityContext": {"privileged": true, "runAsUser": 0, "capabilities": {"add": ["NET_ADMIN"]}}}]);
        },
        &[
            "user-identity (spec.userPods.identity.uid)",
            "run-as-non-root (spec.userPods.runAsNonRoot)",
            "privilege-escalation (spec.userPods.allowPrivilegeEscalation): every container must set",
            "privilege-escalation (spec.userPods.allowPrivilegeEscalation): no container may be privileged",
            "capabilities (spec.userPods.capabilities): every container must drop ALL",
            "capabilities (spec.userPods.capabilities): no container may add",
            "apparmor (spec.userPods.appArmor)",
            "resources (spec.resources.cpu.limit)",
            "resources (spec.resources.memory.limit)",
            "resources (spec.resources.ephemeralStorage.limit)",
        ],
    ),
];

#[test]
fn each_violation_of_restricted_is_refused_by_its_validation() {
    let failures = run_corpus("restricted", RESTRICTED);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! Violations of settings beyond the `restricted` preset, each refused by its validation.

use super::*;

/// Violations of settings `restricted` does not use, each on a case that selects them.
#[test]
fn each_violation_of_other_settings_is_refused_by_its_validation() {
    let cases: &[(&str, &[Mutation])] = &[
        (
            "runtime-sandboxed",
            &[
                (
                    "no runtime class",
                    |p| {
                        p["spec"]
                            .as_object_mut()
                            .unwrap()
                            .remove("runtimeClassName");
                    },
                    &["runtime-class (spec.userPods.runtimeClass.mode)"],
                ),
                (
                    "another runtime class",
                    |p| p["spec"]["runtimeClassName"] = json!("runc"),
                    &["runtime-class (spec.userPods.runtimeClass.mode)"],
                ),
                (
                    "an empty runtime class",
                    |p| p["spec"]["runtimeClassName"] = json!(""),
                    &["runtime-class (spec.userPods.runtimeClass.mode)"],
                ),
            ],
        ),
        (
            "read-only-root",
            &[
                (
                    "a writable root file system",
                    |p| sc(p)["readOnlyRootFilesystem"] = json!(false),
                    &["read-only-root (spec.userPods.readOnlyRootFilesystem)"],
                ),
                (
                    "a debug container that does not say",
                    |p| {
                        let mut c = p["spec"]["containers"][0].clone();
                        c["name"] = json!("debugger");
                        c.as_object_mut().unwrap().remove("resources");
                        c["securityContext"]
                            .as_object_mut()
                            .unwrap()
                            .remove("readOnlyRootFilesystem");
                        debug_container(p, c);
                    },
                    &["read-only-root (spec.userPods.readOnlyRootFilesystem)"],
                ),
            ],
        ),
        (
            "user-namespaces",
            &[
                (
                    "the node's user namespace",
                    |p| p["spec"]["hostUsers"] = json!(true),
                    &["user-namespaces (spec.userPods.hostUsers)"],
                ),
                (
                    "hostUsers dropped (feature gate off)",
                    |p| {
                        p["spec"].as_object_mut().unwrap().remove("hostUsers");
                    },
                    &["user-namespaces (spec.userPods.hostUsers)"],
                ),
            ],
        ),
        (
            "bandwidth-limited",
            &[
                (
                    "no bandwidth annotations",
                    |p| {
                        p["metadata"]["annotations"]
                            .as_object_mut()
                            .unwrap()
                            .retain(|k, _| !k.ends_with("-bandwidth"));
                    },
                    &[
                        "bandwidth (spec.bandwidth.ingress)",
                        "bandwidth (spec.bandwidth.egress)",
                    ],
                ),
                (
                    "ingress above the policy",
                    |p| {
                        p["metadata"]["annotations"]["kubernetes.io/ingress-bandwidth"] =
                            json!("10G")
                    },
                    &["bandwidth (spec.bandwidth.ingress)"],
                ),
                (
                    "egress not a quantity",
                    |p| {
                        p["metadata"]["annotations"]["kubernetes.io/egress-bandwidth"] =
                            json!("fast")
                    },
                    &["bandwidth (spec.bandwidth.egress)"],
                ),
            ],
        ),
        (
            "images-digest-always",
            &[
                (
                    "a tag instead of a digest",
                    |p| {
                        p["spec"]["containers"][0]["image"] =
                            json!("quay.io/jupyter/scipy-notebook:2024-01-01")
                    },
                    &["image-pinning (spec.images.userImage)"],
                ),
                (
                    "pull policy IfNotPresent",
                    |p| p["spec"]["containers"][0]["imagePullPolicy"] = json!("IfNotPresent"),
                    &["image-pull-policy (spec.images.pullPolicy)"],
                ),
            ],
        ),
        (
            "identity-per-user",
            &[(
                "a uid below the per-user base",
                |p| sc(p)["runAsUser"] = json!(1000),
                &["user-identity (spec.userPods.identity.perUserBase)"],
            )],
        ),
        (
            "profiles-localhost",
            &[(
                "another Localhost seccomp profile",
                |p| {
                    p["spec"]["securityContext"]["seccompProfile"] =
                        json!({"type": "Localhost", "localhostProfile": "profiles/other.json"})
                },
                &["seccomp (spec.userPods.seccomp)"],
            )],
        ),
        (
            "api-access-workload-identity-eks",
            &[
                (
                    "another service account with its token",
                    |p| p["spec"]["serviceAccountName"] = json!("default"),
                    &["api-access (spec.apiAccess.mode)"],
                ),
                (
                    "no service account, so the namespace default token",
                    |p| {
                        p["spec"]
                            .as_object_mut()
                            .unwrap()
                            .remove("serviceAccountName");
                    },
                    &["api-access (spec.apiAccess.mode)"],
                ),
                (
                    "the chart's hub account",
                    |p| p["spec"]["serviceAccountName"] = json!("hub"),
                    &["api-access (spec.apiAccess.mode)"],
                ),
                (
                    "another account, token not automounted but projected",
                    |p| {
                        p["spec"]["serviceAccountName"] = json!("other");
                        p["spec"]["automountServiceAccountToken"] = json!(false);
                        p["spec"]["volumes"].as_array_mut().unwrap().push(
                            json!({"name": "tok", "projected": {"sources": [
                                {"serviceAccountToken": {"path": "token", "audience": "sts.amazonaws.com"}}]}}),
                        );
                    },
                    &["api-access (spec.apiAccess.mode)"],
                ),
                // Admitted: no token at all, whichever account.
                (
                    "another account without any token",
                    |p| {
                        p["spec"]["serviceAccountName"] = json!("other");
                        p["spec"]["automountServiceAccountToken"] = json!(false);
                    },
                    &[],
                ),
                // Admitted: the token the EKS webhook projects for the policy's account.
                (
                    "the policy's account with the IRSA token projected",
                    |p| {
                        p["spec"]["volumes"].as_array_mut().unwrap().push(
                            json!({"name": "aws-iam-token", "projected": {"sources": [
                                {"serviceAccountToken": {"path": "token", "audience": "sts.amazonaws.com", "expirationSeconds": 86400}}]}}),
                        );
                    },
                    &[],
                ),
            ],
        ),
        (
            "profiles-registries-digest",
            &[
                (
                    "an image from a registry not listed",
                    |p| {
                        p["spec"]["containers"][0]["image"] =
                            json!("docker.io/rocker/geospatial:4.4.2")
                    },
                    &[
                        "profile-images (spec.profiles.images.registries)",
                        "profile-images (spec.profiles.images.requireDigest)",
                        "image-pinning (spec.images.userImage)",
                    ],
                ),
                (
                    "a registry that only starts with an allowed name",
                    |p| {
                        p["spec"]["containers"][0]["image"] = json!(format!(
                            "quay.io/jupyter-mirror/scipy-notebook@sha256:{}",
                            "ab".repeat(32)
                        ))
                    },
                    &["profile-images (spec.profiles.images.registries)"],
                ),
                (
                    "an allowed registry, pinned",
                    |p| {
                        p["spec"]["containers"][0]["image"] = json!(format!(
                            "registry.example.org/team/r-notebook:1@sha256:{}",
                            "ab".repeat(32)
                        ))
                    },
                    &[],
                ),
                (
                    "a debug container from Docker Hub",
                    |p| {
                        let mut c = p["spec"]["containers"][0].clone();
                        c["name"] = json!("debugger");
                        c["image"] = json!(format!("busybox@sha256:{}", "ab".repeat(32)));
                        c.as_object_mut().unwrap().remove("resources");
                        debug_container(p, c);
                    },
                    &["profile-images (spec.profiles.images.registries)"],
                ),
                (
                    "a CPU limit above the profile ceiling",
                    |p| p["spec"]["containers"][0]["resources"]["limits"]["cpu"] = json!("3"),
                    &["profile-images (spec.profiles.maxCpu)"],
                ),
                // The default limit (2) is a default: a profile may go up to the ceiling.
                (
                    "a CPU limit above the default, at the ceiling",
                    |p| p["spec"]["containers"][0]["resources"]["limits"]["cpu"] = json!("2500m"),
                    &[],
                ),
                (
                    "no CPU limit",
                    |p| {
                        p["spec"]["containers"][0]["resources"]["limits"]
                            .as_object_mut()
                            .unwrap()
                            .remove("cpu");
                    },
                    &["profile-images (spec.profiles.maxCpu)"],
                ),
            ],
        ),
        (
            "profiles-pattern",
            &[
                (
                    "a memory limit above the profile ceiling",
                    |p| p["spec"]["containers"][0]["resources"]["limits"]["memory"] = json!("32Gi"),
                    &["profile-images (spec.profiles.maxMemory)"],
                ),
                (
                    "a memory limit above the default, below the ceiling",
                    |p| p["spec"]["containers"][0]["resources"]["limits"]["memory"] = json!("8Gi"),
                    &[],
                ),
            ],
        ),
        (
            "api-pod-creator",
            &[(
                "another service account",
                |p| p["spec"]["serviceAccountName"] = json!("default"),
                &["api-access (spec.apiAccess.mode)"],
            )],
        ),
        (
            "baseline",
            &[
                (
                    "a changed metadata blocker",
                    |p| {
                        let init = &mut p["spec"]["initContainers"][0];
                        assert_eq!(init["name"], "block-cloud-metadata");
                        init["command"] = json!(["sh", "-c", "iptables -F; sleep infinity"]);
                    },
                    &[
                        "user-identity (spec.userPods.identity.uid)",
                        "privilege-escalation (spec.userPods.allowPrivilegeEscalation)",
                    ],
                ),
                (
                    "the blocker's rule for another address",
                    |p| {
                        p["spec"]["initContainers"][0]["command"][6] = json!("10.0.0.1");
                    },
                    &[
                        "user-identity (spec.userPods.identity.uid)",
                        "privilege-escalation (spec.userPods.allowPrivilegeEscalation)",
                    ],
                ),
                (
                    "host IPC",
                    |p| p["spec"]["hostIPC"] = json!(true),
                    &["admission (spec.admission.mode)"],
                ),
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (case, corpus) in cases {
        failures.extend(run_corpus(case, corpus));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

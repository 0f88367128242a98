//! Isolation controls (runtime class, user namespaces, read-only root file
//! system) read back from the effective user pods of real-shaped values:
//! `check` against a policy that asks for them, with profiles that keep,
//! change or remove the setting, on both chart lines.
#![allow(clippy::unwrap_used)]

use serde_json::Value;

const POLICY_HEAD: &str = "apiVersion: z2jh-policy/v1
kind: HubPolicy
metadata: {name: hub, namespace: jhub}
extends: restricted
chart: 4.4.0
kubernetesVersion: \"1.33\"
spec:
  https: {hosts: [hub.example.org], letsencrypt: {contactEmail: admin@example.org}}
  access: {users: [alice]}
";

/// `check` of `values` against the restricted preset plus `user_pods`
/// (YAML lines under `spec.userPods`), as JSON.
fn check(user_pods: &str, values: &str, chart: &str) -> Value {
    let d = tempfile::tempdir().unwrap();
    let policy = d.path().join("policy.yaml");
    std::fs::write(&policy, format!("{POLICY_HEAD}  userPods:\n{user_pods}")).unwrap();
    let file = d.path().join("values.yaml");
    std::fs::write(&file, values).unwrap();
    let o = crate::common::binary::command()
        .arg("check")
        .arg(&policy)
        .arg("--values")
        .arg(&file)
        .args(["--chart-version", chart, "--format", "json"])
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn holds(r: &Value, control: &str) -> bool {
    r["holds"].as_array().unwrap().iter().any(|c| c == control)
}

fn finding<'a>(r: &'a Value, control: &str) -> &'a Value {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == format!("Z2JH-{control}").as_str())
        .unwrap_or_else(|| panic!("no finding for {control}: {r:#}"))
}

fn line_of(values: &str, needle: &str) -> u64 {
    values.lines().position(|l| l.contains(needle)).unwrap() as u64 + 1
}

const GVISOR: &str = "    runtimeClass: {mode: sandboxed, name: gvisor}\n";

#[test]
fn a_profile_that_removes_the_runtime_class_is_cited() {
    let values = "singleuser:
  extraPodConfig:
    runtimeClassName: gvisor
  profileList:
    - display_name: Standard
      default: true
    - display_name: GPU
      kubespawner_override:
        extra_pod_config:
          runtimeClassName: null
          nodeSelector:
            cloud.google.com/gke-accelerator: nvidia-tesla-t4
";
    for chart in ["4.4.0", "3.3.8"] {
        let r = check(GVISOR, values, chart);
        let f = finding(&r, "runtime-class");
        assert_eq!(f["status"], "violated", "{f:#}");
        assert_eq!(f["found"]["name"], "default-runtime", "{f:#}");
        assert!(
            f["found"]["detail"].as_str().unwrap().contains("gpu"),
            "{f:#}"
        );
        assert_eq!(
            f["evidence"]["line"],
            line_of(values, "extra_pod_config:"),
            "{f:#}"
        );
        assert_eq!(
            f["evidence"]["key"],
            "singleuser.profileList[1].kubespawner_override.extra_pod_config"
        );
    }
}

#[test]
fn profile_overrides_merge_into_the_runtime_class() {
    // KubeSpawner merges a profile's extra_pod_config into the configured
    // one: the GPU profile keeps gvisor.
    let values = "singleuser:
  extraPodConfig:
    runtimeClassName: gvisor
  profileList:
    - display_name: GPU
      kubespawner_override:
        extra_pod_config:
          nodeSelector:
            cloud.google.com/gke-accelerator: nvidia-tesla-t4
";
    let r = check(GVISOR, values, "4.4.0");
    assert!(holds(&r, "runtime-class"), "{r:#}");
}

#[test]
fn another_runtime_class_is_a_parameter_finding() {
    let values = "singleuser:
  extraPodConfig:
    runtimeClassName: gvisor
  profileList:
    - display_name: Standard
      default: true
    - display_name: VM
      kubespawner_override:
        extra_pod_config:
          runtimeClassName: kata
";
    let r = check(GVISOR, values, "4.4.0");
    let f = finding(&r, "runtime-class");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("the RuntimeClass `kata` (profile `vm`), the policy requires `gvisor`"),
        "{f:#}"
    );
}

#[test]
fn no_runtime_class_is_the_default_runtime() {
    let r = check(GVISOR, "singleuser:\n  uid: 1000\n", "3.3.8");
    let f = finding(&r, "runtime-class");
    assert_eq!(f["found"]["name"], "default-runtime");
    assert_eq!(f["severity"], "medium");
}

#[test]
fn init_proposes_the_runtime_class_in_use() {
    let d = tempfile::tempdir().unwrap();
    let values = d.path().join("values.yaml");
    std::fs::write(
        &values,
        "singleuser:\n  extraPodConfig:\n    runtimeClassName: gvisor\n",
    )
    .unwrap();
    let o = crate::common::binary::command()
        .args(["init", "--from"])
        .arg(&values)
        .args(["--chart-version", "4.4.0"])
        .output()
        .unwrap();
    let proposal = String::from_utf8_lossy(&o.stdout);
    let policy = z2jh_policy::yaml::parse(&proposal).unwrap().value;
    assert_eq!(
        policy.pointer("/spec/userPods/runtimeClass"),
        Some(&serde_json::json!({"mode": "sandboxed", "name": "gvisor"})),
        "{proposal}"
    );
}

const USERNS: &str = "    hostUsers: false\n";

#[test]
fn a_profile_back_in_the_node_user_namespace_is_cited() {
    let values = "singleuser:
  extraPodConfig:
    hostUsers: false
  profileList:
    - display_name: Standard
      default: true
    - display_name: FUSE
      kubespawner_override:
        extra_pod_config:
          hostUsers: true
";
    for chart in ["4.4.0", "3.3.8"] {
        let r = check(USERNS, values, chart);
        let f = finding(&r, "user-namespaces");
        assert_eq!(f["status"], "violated", "{f:#}");
        assert_eq!(f["found"]["name"], "host-users", "{f:#}");
        assert!(
            f["found"]["detail"].as_str().unwrap().contains("fuse"),
            "{f:#}"
        );
        assert_eq!(
            f["evidence"]["line"],
            line_of(values, "hostUsers: true"),
            "{f:#}"
        );
    }
    let held = check(
        USERNS,
        "singleuser:\n  extraPodConfig:\n    hostUsers: false\n",
        "4.4.0",
    );
    assert!(holds(&held, "user-namespaces"), "{held:#}");
}

#[test]
fn user_namespaces_need_a_hub_image_that_models_host_users() {
    let d = tempfile::tempdir().unwrap();
    let policy = d.path().join("policy.yaml");
    std::fs::write(
        &policy,
        format!("{POLICY_HEAD}  userPods:\n{USERNS}").replace("chart: 4.4.0", "chart: 3.0.3"),
    )
    .unwrap();
    let o = crate::common::binary::command()
        .arg("compile")
        .arg(&policy)
        .args(["-o", "-"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("chart 3.0.3 cannot run user pods with `hostUsers: false`"),
        "{err}"
    );
    // 3.1.0 ships a kubernetes_asyncio that has the field.
    std::fs::write(
        &policy,
        format!("{POLICY_HEAD}  userPods:\n{USERNS}").replace("chart: 4.4.0", "chart: 3.1.0"),
    )
    .unwrap();
    let o = crate::common::binary::command()
        .arg("compile")
        .arg(&policy)
        .args(["-o", "-"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("hostUsers: false"));
}

const READ_ONLY: &str = "    readOnlyRootFilesystem: true\n";

#[test]
fn a_profile_that_makes_the_image_writable_is_cited() {
    let values = "hub:
  config:
    KubeSpawner:
      container_security_context:
        readOnlyRootFilesystem: true
singleuser:
  profileList:
    - display_name: Standard
      default: true
    - display_name: Builder
      kubespawner_override:
        container_security_context:
          readOnlyRootFilesystem: false
";
    for chart in ["4.4.0", "3.3.8"] {
        let r = check(READ_ONLY, values, chart);
        let f = finding(&r, "read-only-root");
        assert_eq!(f["found"]["name"], "writable", "{f:#}");
        assert!(
            f["found"]["detail"].as_str().unwrap().contains("builder"),
            "{f:#}"
        );
        assert_eq!(
            f["evidence"]["line"],
            line_of(values, "        container_security_context:"),
            "{f:#}"
        );
    }
    // extra_container_config replaces the whole security context.
    let values = "hub:
  config:
    KubeSpawner:
      container_security_context:
        readOnlyRootFilesystem: true
      extra_container_config:
        securityContext:
          runAsNonRoot: true
";
    let r = check(READ_ONLY, values, "4.4.0");
    assert_eq!(finding(&r, "read-only-root")["found"]["name"], "writable");
    let held = check(
        READ_ONLY,
        "hub:\n  config:\n    KubeSpawner:\n      container_security_context:\n        readOnlyRootFilesystem: true\n",
        "4.4.0",
    );
    assert!(holds(&held, "read-only-root"), "{held:#}");
}

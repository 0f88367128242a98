//! Which pods a binding matches, and what exceptions leave out.

use super::*;

/// With `pod-creator`, users' own pods in the workload namespace are held
/// to the user-pod rules, but not to the hub's service account.
#[test]
fn pod_creator_binds_the_workload_namespace_too() {
    let c = common::compile_case("api-pod-creator", "4.4.0").unwrap();
    let objects = c.rendered.manifest_objects();
    let bindings: Vec<&Value> = objects
        .iter()
        .filter(|m| m["kind"] == "ValidatingAdmissionPolicyBinding")
        .collect();
    let pc = c.loaded.policy.spec.api_access.pod_creator.clone().unwrap();
    assert!(bindings.iter().any(|b| b["spec"]["matchResources"]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        == json!(pc.workload_namespace) && b["spec"]["matchResources"].get("objectSelector").is_none()));
    let (checks, mut pod, _) = case_pod("api-pod-creator");
    pod["spec"]["serviceAccountName"] = json!("default");
    assert!(refused(&checks, &pod, &pc.workload_namespace).is_empty());
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    assert_eq!(refused(&checks, &pod, &pc.workload_namespace).len(), 1);
}

/// A profile-scoped exception lets that profile's pods (labelled so by the
/// profile's `extra_labels`, in the hub's namespace) past its control's
/// validations only: other pods, the same label in another namespace, and
/// other controls' validations still refuse.
#[test]
fn a_profile_exception_exempts_only_that_profiles_pods_from_only_its_control() {
    let (checks, mut pod, ns) = case_pod("exception-profile");
    assert!(refused(&checks, &pod, &ns).is_empty());
    let seccomp = "seccomp (spec.userPods.seccomp)";
    sc(&mut pod)["seccompProfile"] = json!({"type": "Unconfined"});
    let got = refused(&checks, &pod, &ns);
    assert!(
        got.iter().all(|m| m.starts_with(seccomp)) && !got.is_empty(),
        "{got:?}"
    );

    pod["metadata"]["labels"]["z2jh-policy/profile"] = json!("gpu");
    assert!(refused(&checks, &pod, &ns).is_empty());
    // Another profile's label, or a user's pod elsewhere with this one: refused.
    let mut other = pod.clone();
    other["metadata"]["labels"]["z2jh-policy/profile"] = json!("cpu");
    assert!(
        refused(&checks, &other, &ns)
            .iter()
            .any(|m| m.starts_with(seccomp))
    );
    assert!(
        refused(&checks, &pod, "workloads")
            .iter()
            .any(|m| m.starts_with(seccomp))
    );
    // The exception is for seccomp alone.
    sc(&mut pod)["privileged"] = json!(true);
    let got = refused(&checks, &pod, &ns);
    assert!(
        !got.is_empty() && got.iter().all(|m| !m.starts_with(seccomp)),
        "{got:?}"
    );
    // The parent's exception (read-only root, profile `legacy`) still applies with its label.
    let (checks, mut pod, ns) = case_pod("exception-profile");
    sc(&mut pod)["readOnlyRootFilesystem"] = json!(false);
    assert!(!refused(&checks, &pod, &ns).is_empty());
    pod["metadata"]["labels"]["z2jh-policy/profile"] = json!("legacy");
    assert!(refused(&checks, &pod, &ns).is_empty());
}

/// A hub-wide exception leaves its control's validations out; the others stay.
#[test]
fn a_hub_wide_exception_leaves_its_validations_out() {
    let (checks, mut pod, ns) = case_pod("exception-hub-wide");
    assert!(
        checks
            .iter()
            .all(|c| !c.message.starts_with("privilege-escalation"))
    );
    let (restricted, ..) = case_pod("restricted");
    assert!(
        restricted
            .iter()
            .any(|c| c.message.starts_with("privilege-escalation"))
    );
    sc(&mut pod)["allowPrivilegeEscalation"] = json!(true);
    assert!(refused(&checks, &pod, &ns).is_empty());
    sc(&mut pod)["runAsUser"] = json!(0);
    assert!(!refused(&checks, &pod, &ns).is_empty());
}

//! The chart's own pods, and `check` reading an admission manifest back.

use super::*;

/// Every container security context the chart takes for its own pods, as
/// the compiled values (over the chart defaults) set it, passes the
/// chart-pod policy on both golden releases; the violations it exists for
/// are refused.
#[test]
fn chart_pod_contexts_of_restricted_are_admitted_and_violations_refused() {
    const CONTEXTS: &[&str] = &[
        "/hub/containerSecurityContext",
        "/proxy/chp/containerSecurityContext",
        "/proxy/traefik/containerSecurityContext",
        "/proxy/secretSync/containerSecurityContext",
        "/scheduling/userScheduler/containerSecurityContext",
        "/scheduling/userPlaceholder/containerSecurityContext",
        "/prePuller/containerSecurityContext",
        "/prePuller/hook/containerSecurityContext",
        "/prePuller/pause/containerSecurityContext",
    ];
    for v in common::VERSIONS {
        let c = common::compile_case("restricted", v).unwrap();
        let chart_checks = checks(&c.rendered.manifest_objects(), ".chart-pods");
        assert_eq!(chart_checks.len(), 7, "{v}");
        let chart = common::chart(v);
        let file = ValuesFile::from_text(
            "values.yaml",
            z2jh_policy::yaml::to_string(&c.rendered.values),
        )
        .unwrap();
        let values = merged(&chart.defaults, &[file]);
        for ptr in CONTEXTS {
            let ctx = values
                .pointer(ptr)
                .cloned()
                .unwrap_or_else(|| panic!("{v}: {ptr}"));
            let mut pod = json!({"metadata": {"labels": {"component": "hub"}}, "spec": {
                "securityContext": values.pointer("/hub/podSecurityContext").cloned().filter(|_| ptr.starts_with("/hub")).unwrap_or(json!({})),
                "containers": [{"name": "c", "image": "x:1", "securityContext": ctx}]}});
            strip_nulls(&mut pod);
            let got = refused(&chart_checks, &pod, "jhub");
            assert!(got.is_empty(), "{v}: {ptr}: {got:?}");
            let mut root = pod.clone();
            root["spec"]["containers"][0]["securityContext"]["runAsUser"] = json!(0);
            assert!(
                refused(&chart_checks, &root, "jhub")
                    .iter()
                    .all(|m| m.contains("uid 0")),
                "{v}: {ptr}"
            );
            assert_eq!(refused(&chart_checks, &root, "jhub").len(), 1, "{v}: {ptr}");
            let mut host = pod.clone();
            host["spec"]["hostNetwork"] = json!(true);
            host["spec"]["volumes"] = json!([{"name": "h", "hostPath": {"path": "/var/run"}}]);
            assert_eq!(refused(&chart_checks, &host, "jhub").len(), 2, "{v}: {ptr}");
            let mut writable = pod.clone();
            writable["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] =
                json!(false);
            let got = refused(&chart_checks, &writable, "jhub");
            assert!(
                got.len() == 1 && got.iter().all(|m| m.contains("readOnlyRootFilesystem")),
                "{v}: {ptr}: {got:?}"
            );
            let mut open = pod.clone();
            open["spec"]["initContainers"] = json!([{"name": "i", "image": "x:1"}]);
            let got = refused(&chart_checks, &open, "jhub");
            assert!(
                got.iter().any(|m| m.contains("allowPrivilegeEscalation"))
                    && got.iter().any(|m| m.contains("drop ALL")),
                "{v}: {ptr}: {got:?}"
            );
        }
    }
    // `chart-default` hardening asks nothing of the chart's pods (3.x's own defaults would fail).
    let c = common::compile_case("baseline", "3.3.8").unwrap();
    assert!(checks(&c.rendered.manifest_objects(), ".chart-pods").is_empty());
}

/// `check --manifests` reads the admission objects back: the compiled ones
/// hold; a binding loosened to Warn, and a policy missing one validation,
/// are findings of the `admission` control.
#[test]
fn check_reads_an_admission_manifest_back() {
    const DIR: &str = "golden/check/override";
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(format!("{DIR}/manifests.yaml")).unwrap();
    let docs = z2jh_policy::yaml::parse_stream(&text).unwrap();
    let write = |name: &str, docs: &[Value]| {
        let path = tmp.path().join(name);
        let body: Vec<String> = docs.iter().map(z2jh_policy::yaml::to_string).collect();
        std::fs::write(&path, body.join("---\n")).unwrap();
        path.display().to_string()
    };
    let check = |manifests: &str| {
        let o = common::binary::command()
            .args([
                "check",
                &format!("{DIR}/policy.yaml"),
                "--values",
                &format!("{DIR}/security.yaml"),
                &format!("{DIR}/secrets.yaml"),
                "--chart-version",
                "4.4.0",
                "--manifests",
                manifests,
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&o.stdout).unwrap();
        let admission = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["control"] == "admission")
            .cloned()
            .unwrap_or(Value::Null);
        (o.status.code(), admission)
    };
    let (code, holds) = check(&write("as-compiled.yaml", &docs));
    assert_eq!((code, &holds), (Some(0), &Value::Null));

    let mut warn = docs.clone();
    for d in warn
        .iter_mut()
        .filter(|d| d["kind"] == "ValidatingAdmissionPolicyBinding")
    {
        d["spec"]["validationActions"] = json!(["Warn"]);
    }
    let (code, loosened) = check(&write("warn.yaml", &warn));
    assert_eq!(code, Some(1), "{loosened}");
    assert_eq!(loosened["found"]["name"], "warn", "{loosened}");

    let mut fewer = docs.clone();
    let vap = fewer
        .iter_mut()
        .find(|d| d["kind"] == "ValidatingAdmissionPolicy")
        .unwrap();
    let removed = vap["spec"]["validations"].as_array_mut().unwrap().remove(1);
    let (code, thinned) = check(&write("fewer.yaml", &fewer));
    assert_eq!(code, Some(1), "{thinned}");
    assert!(
        thinned
            .to_string()
            .contains(removed["message"].as_str().unwrap()),
        "{thinned}"
    );

    let none: Vec<Value> = docs
        .iter()
        .filter(|d| !d["kind"].as_str().unwrap().starts_with("Validating"))
        .cloned()
        .collect();
    let (code, off) = check(&write("none.yaml", &none));
    assert_eq!(code, Some(1), "{off}");
    assert_eq!(off["found"]["name"], "off", "{off}");
}

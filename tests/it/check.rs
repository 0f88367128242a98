//! `check`: values files merged like Helm, judged against the policy they
//! were compiled from. Regenerate with `UPDATE_GOLDEN=1 cargo test --test it check::`.
#![allow(clippy::unwrap_used)]

use crate::common;
use common::binary::output as run;

use std::path::Path;
use std::process::Output;

use common::check_file;

const DIR: &str = "golden/check/override";

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `check POLICY --values VALUES` on chart 4.4.0, as JSON: the exit code,
/// everything printed, and the finding of `control` (null when it holds).
fn check_finding(
    policy: &str,
    values: &str,
    control: &str,
) -> (Option<i32>, String, serde_json::Value) {
    let o = run(&[
        "check",
        policy,
        "--values",
        values,
        "--chart-version",
        "4.4.0",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["control"] == control)
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    (o.status.code(), out(&o), f)
}

/// `security.yaml` and `manifests.yaml` are the policy's own compiled output.
#[test]
fn fixtures_are_the_compiled_policy() {
    let c = z2jh_policy::compile::compile(
        &z2jh_policy::parse::Input::File(format!("{DIR}/policy.yaml").into()),
        &Default::default(),
    )
    .unwrap();
    let values = z2jh_policy::yaml::to_string(&c.rendered.values);
    let manifests: Vec<String> = c
        .rendered
        .manifests
        .iter()
        .map(|m| z2jh_policy::yaml::to_string(&m.object))
        .collect();
    let mut failures = Vec::new();
    failures.extend(check_file(&Path::new(DIR).join("security.yaml"), &values));
    failures.extend(check_file(
        &Path::new(DIR).join("manifests.yaml"),
        &manifests.join("---\n"),
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_policys_own_values_hold() {
    let o = run(&[
        "check",
        &format!("{DIR}/policy.yaml"),
        "--values",
        &format!("{DIR}/security.yaml"),
        &format!("{DIR}/secrets.yaml"),
        "--chart-version",
        "4.4.0",
        "--manifests",
        &format!("{DIR}/manifests.yaml"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    if let Some(e) = check_file(&Path::new(DIR).join("holds.txt"), &out(&o)) {
        panic!("{e}");
    }
}

#[test]
fn a_later_file_that_undoes_the_policy_is_found_with_file_and_line() {
    let mut failures = Vec::new();
    for (format, file) in [
        ("text", "violations.txt"),
        ("json", "violations.json"),
        ("markdown", "violations.md"),
    ] {
        let o = run(&[
            "check",
            &format!("{DIR}/policy.yaml"),
            "--values",
            &format!("{DIR}/security.yaml"),
            &format!("{DIR}/config.yaml"),
            &format!("{DIR}/secrets.yaml"),
            "--chart-version",
            "4.4.0",
            "--format",
            format,
        ]);
        assert_eq!(o.status.code(), Some(1), "{format}: {}", out(&o));
        failures.extend(check_file(&Path::new(DIR).join(file), &out(&o)));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    let o = run(&[
        "check",
        &format!("{DIR}/policy.yaml"),
        "--values",
        &format!("{DIR}/security.yaml"),
        &format!("{DIR}/config.yaml"),
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let find = |id: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no {id} in {report:#}"))
    };
    // The user NetworkPolicy switched off in config.yaml line 14.
    let netpol = find("Z2JH-network-policy");
    assert_eq!(netpol["evidence"]["file"], format!("{DIR}/config.yaml"));
    assert_eq!(netpol["evidence"]["line"], 14);
    assert_eq!(
        netpol["evidence"]["key"],
        "singleuser.networkPolicy.enabled"
    );
    assert_eq!(netpol["found"]["name"], "partial");
    // Which also opens egress and the metadata server.
    assert_eq!(find("Z2JH-egress")["found"]["name"], "internet");
    assert_eq!(find("Z2JH-cloud-metadata")["found"]["name"], "allow");
    // `memory.limit: null` deletes the policy's limit.
    let res = find("Z2JH-resources");
    assert_eq!(res["evidence"]["line"], 16);
    assert_eq!(res["found"]["name"], "partial");
    // Without manifests, namespace objects cannot be verified — and do not fail.
    assert_eq!(
        find("Z2JH-pod-security-admission")["status"],
        "cannot-verify"
    );
}

#[test]
fn bad_input_exits_2() {
    let o = run(&[
        "check",
        &format!("{DIR}/policy.yaml"),
        "--values",
        &format!("{DIR}/missing.yaml"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no such file"));
    let o = run(&[
        "check",
        &format!("{DIR}/config.yaml"),
        "--values",
        &format!("{DIR}/security.yaml"),
    ]);
    assert_eq!(o.status.code(), Some(2), "a values file is not a policy");
}

/// How `proxy-public` is published, read back against a policy that limits
/// the load balancer to two ranges: opened to all, a range too many, a node
/// port, and the policy's own ranges.
#[test]
fn exposure_is_read_from_the_proxy_service() {
    const POLICY: &str = "golden/exposure-source-ranges/policy.yaml";
    let exposure = |values: &str| {
        let (code, _, f) = check_finding(POLICY, values, "exposure");
        (code, f)
    };
    let (code, open) = exposure("golden/check/exposure/open.yaml");
    assert_eq!(code, Some(1));
    assert_eq!(open["found"]["name"], "open-load-balancer");
    assert_eq!(open["severity"], "high");
    assert_eq!(open["evidence"]["file"], "golden/check/exposure/open.yaml");
    assert_eq!(open["evidence"]["line"], 5);
    assert!(
        open["fix"]["yaml"]
            .as_str()
            .unwrap()
            .contains("- 192.0.2.0/24"),
        "{open:#}"
    );

    let (_, wider) = exposure("golden/check/exposure/wider.yaml");
    assert_eq!(wider["found"]["name"], "restricted-load-balancer");
    assert_eq!(wider["status"], "violated");
    assert!(
        wider["message"]
            .as_str()
            .unwrap()
            .contains("`198.51.100.0/24`, outside the policy's sourceRanges"),
        "{wider:#}"
    );

    let (_, node_port) = exposure("golden/check/exposure/node-port.yaml");
    assert_eq!(node_port["found"]["name"], "node-port");
    assert_eq!(node_port["evidence"]["line"], 3);

    // The policy's own output holds.
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().display().to_string();
    assert_eq!(
        run(&["compile", POLICY, "-o", &out_dir, "-q"])
            .status
            .code(),
        Some(0)
    );
    let own = dir.path().join("values.yaml").display().to_string();
    let (_, holds) = exposure(&own);
    assert!(holds.is_null(), "{holds:#}");
}

/// Who may log in, read back against the site policy (`alice` and `bob`,
/// admin `carol`): a hand-added user and admin, an `allow_all` in the
/// authenticator's own section, and the policy's own output. The client
/// secret beside them is never printed.
#[test]
fn access_is_read_from_the_authenticator_config() {
    const POLICY: &str = "golden/restricted/policy.yaml";
    let access = |values: &str| {
        let (code, text, f) = check_finding(POLICY, values, "access");
        assert!(!text.contains("fortestsonly"), "{text}");
        (code, f)
    };
    let (code, extra) = access("golden/check/access/extra-user.yaml");
    assert_eq!(code, Some(1));
    assert_eq!(extra["found"]["name"], "listed");
    assert_eq!(extra["status"], "violated");
    let message = extra["message"].as_str().unwrap();
    assert!(
        message.contains("`mallory` is in `Authenticator.allowed_users` but not in `access.users`")
            && message.contains(
                "`mallory` is an administrator (`Authenticator.admin_users`) but not in `access.admins`"
            ),
        "{extra:#}"
    );

    let (_, open) = access("golden/check/access/allow-all.yaml");
    assert_eq!(open["found"]["name"], "open");
    assert_eq!(open["severity"], "high");
    assert_eq!(
        open["evidence"]["file"],
        "golden/check/access/allow-all.yaml"
    );
    assert_eq!(open["evidence"]["line"], 9);

    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().display().to_string();
    assert_eq!(
        run(&["compile", POLICY, "-o", &out_dir, "-q"])
            .status
            .code(),
        Some(0)
    );
    let own = dir.path().join("values.yaml").display().to_string();
    let (_, holds) = access(&own);
    assert!(holds.is_null(), "{holds:#}");
}

// ------------------------------------------------------------ exceptions

const EXCEPTIONS: &str = "golden/check/exceptions";

fn check_exceptions(config: &str, today: &str, format: &str) -> Output {
    run(&[
        "check",
        &format!("{EXCEPTIONS}/policy.yaml"),
        "--values",
        &format!("{EXCEPTIONS}/security.yaml"),
        &format!("{EXCEPTIONS}/{config}"),
        "--chart-version",
        "4.4.0",
        "--today",
        today,
        "--format",
        format,
    ])
}

/// `security.yaml` is the exceptions policy's own compiled values.
#[test]
fn exception_fixtures_are_the_compiled_policy() {
    let c = z2jh_policy::compile::compile(
        &z2jh_policy::parse::Input::File(format!("{EXCEPTIONS}/policy.yaml").into()),
        &z2jh_policy::compile::Options {
            today: Some(common::golden_today()),
            ..Default::default()
        },
    )
    .unwrap();
    let values = z2jh_policy::yaml::to_string(&c.rendered.values);
    if let Some(e) = check_file(&Path::new(EXCEPTIONS).join("security.yaml"), &values) {
        panic!("{e}");
    }
}

/// A profile-scoped exception in force turns that profile's findings into
/// excepted ones, which do not fail the run; the same weakness in a second
/// profile is still a finding; once the exception has expired it covers
/// nothing and is a finding itself.
#[test]
fn exceptions_excuse_only_what_they_name_and_only_until_they_expire() {
    let today = common::GOLDEN_TODAY;
    let mut failures = Vec::new();
    for (config, day, code, file) in [
        ("gpu.yaml", today, 0, "gpu.txt"),
        ("legacy.yaml", today, 1, "legacy.txt"),
        ("gpu.yaml", "2027-03-01", 1, "expired.txt"),
    ] {
        let o = check_exceptions(config, day, "text");
        assert_eq!(o.status.code(), Some(code), "{config} {day}: {}", out(&o));
        failures.extend(check_file(&Path::new(EXCEPTIONS).join(file), &out(&o)));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    let json = |config: &str, day: &str| -> serde_json::Value {
        serde_json::from_slice(&check_exceptions(config, day, "json").stdout).unwrap()
    };
    let status = |r: &serde_json::Value, id: &str| -> Vec<String> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["id"] == id)
            .map(|f| f["status"].as_str().unwrap().to_string())
            .collect()
    };
    let gpu = json("gpu.yaml", today);
    assert_eq!(status(&gpu, "Z2JH-seccomp"), ["excepted"]);
    assert_eq!(status(&gpu, "Z2JH-user-pod-level"), ["excepted"]);
    assert_eq!(gpu["summary"]["violations"], 0);
    assert_eq!(gpu["summary"]["excepted"], 2);
    let seccomp = gpu["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "Z2JH-seccomp")
        .unwrap();
    assert_eq!(seccomp["exception"]["owner"], "research-computing");
    assert_eq!(seccomp["exception"]["profile"], "gpu");
    assert_eq!(seccomp["exception"]["daysLeft"], 89);

    let legacy = json("legacy.yaml", today);
    assert_eq!(status(&legacy, "Z2JH-seccomp"), ["violated"]);

    let expired = json("gpu.yaml", "2027-03-01");
    assert_eq!(status(&expired, "Z2JH-seccomp"), ["violated"]);
    assert_eq!(
        status(&expired, "Z2JH-exception-expired"),
        ["violated", "violated"]
    );
}

/// SARIF keeps an excepted result, suppressed as accepted with the reason.
#[test]
fn excepted_results_are_suppressed_in_sarif() {
    let o = check_exceptions("gpu.yaml", common::GOLDEN_TODAY, "sarif");
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let log: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let seccomp = results
        .iter()
        .find(|r| r["ruleId"] == "Z2JH-seccomp")
        .unwrap();
    assert_eq!(seccomp["suppressions"][0]["kind"], "external");
    assert_eq!(seccomp["suppressions"][0]["status"], "accepted");
    assert!(
        seccomp["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .starts_with("the GPU profile's profiler needs perf_event_open")
    );
    // Findings no exception covers carry no suppression.
    assert!(
        results
            .iter()
            .filter(|r| r["ruleId"] != "Z2JH-seccomp" && r["ruleId"] != "Z2JH-user-pod-level")
            .all(|r| r.get("suppressions").is_none())
    );
}

/// `audit --policy`: a profile override is excepted only for the profile
/// its exception names.
#[test]
fn audit_excepts_only_the_named_profiles_override() {
    let o = run(&[
        "audit",
        &format!("{EXCEPTIONS}/security.yaml"),
        &format!("{EXCEPTIONS}/legacy-first.yaml"),
        "--policy",
        &format!("{EXCEPTIONS}/policy.yaml"),
        "--chart-version",
        "4.4.0",
        "--today",
        common::GOLDEN_TODAY,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let of = |id: &str| -> Vec<(String, String)> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["id"] == id)
            .map(|f| {
                (
                    f["status"].as_str().unwrap().to_string(),
                    f["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // The legacy profile decides the control's own finding: not excepted.
    let seccomp = of("Z2JH-seccomp");
    assert_eq!(seccomp.len(), 1);
    assert_eq!(seccomp[0].0, "violated");
    assert!(seccomp[0].1.contains("covers only that profile's pods"));
    // The GPU profile's override is excepted.
    let overrides = of("Z2JH-profile-override");
    assert!(
        overrides
            .iter()
            .any(|(s, m)| s == "excepted" && m.starts_with("profile `GPU`")),
        "{overrides:?}"
    );
    assert!(
        overrides
            .iter()
            .all(|(s, m)| s == "excepted" || !m.starts_with("profile `GPU`")),
        "{overrides:?}"
    );
}

/// An exception never covers a setting weaker than its `allow`.
#[test]
fn a_setting_weaker_than_allow_is_still_a_finding() {
    let o = run(&[
        "check",
        &format!("{EXCEPTIONS}/narrow.yaml"),
        "--values",
        &format!("{EXCEPTIONS}/security.yaml"),
        &format!("{EXCEPTIONS}/gpu.yaml"),
        "--chart-version",
        "4.4.0",
        "--today",
        common::GOLDEN_TODAY,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "Z2JH-seccomp")
        .unwrap();
    assert_eq!(f["status"], "violated");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .ends_with("the exception for `seccomp` allows `localhost` at most"),
        "{f}"
    );
    assert!(f.get("exception").is_none());
}

/// A profile-scoped exception whose profile's pods lack the label is still
/// excepted by `check`, which warns that admission will refuse those pods.
#[test]
fn an_unlabelled_profile_is_excepted_with_a_warning_about_admission() {
    let o = check_exceptions("unlabelled.yaml", common::GOLDEN_TODAY, "json");
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let msg = |id: &str| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(
        msg("Z2JH-seccomp").ends_with(
            "admission cannot tell the profile's pods apart and still refuses them: add `z2jh-policy/profile: gpu` to the profile's `kubespawner_override.extra_labels`"
        ),
        "{}",
        msg("Z2JH-seccomp")
    );
    // With the label (gpu.yaml), no such warning.
    let o = check_exceptions("gpu.yaml", common::GOLDEN_TODAY, "json");
    assert!(!out(&o).contains("cannot tell the profile's pods apart"));
}

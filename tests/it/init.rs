//! `init --from`: the proposed policy for existing values, and the round
//! trip — `check` with the proposal on the same values passes.
//! Regenerate with `UPDATE_GOLDEN=1 cargo test --test it init::`.
#![allow(clippy::unwrap_used)]

use crate::common;
use common::binary::output_in as run_in;

use std::path::Path;
use std::process::Output;

use common::check_file;

fn run(args: &[&str]) -> Output {
    run_in(Path::new("."), args)
}

/// Where a case runs: files under `chart-data/` are the chart's defaults,
/// written from the embedded data beside the other test files.
fn workdir(files: &[&str]) -> std::path::PathBuf {
    if files.iter().any(|f| f.starts_with("chart-data/")) {
        common::chart_data().parent().unwrap().to_path_buf()
    } else {
        std::env::current_dir().unwrap()
    }
}

/// `--chart-version` of the cases that name one.
const CHART: &str = "4.4.0";

/// (case, values files, chart folder, manifests)
type Case = (
    &'static str,
    Vec<&'static str>,
    Option<&'static str>,
    Vec<&'static str>,
);

fn cases() -> Vec<Case> {
    let mut with_manifests: Vec<Case> = vec![
        (
            "workload-identity",
            vec!["golden/init/workload-identity/values.yaml"],
            Some(CHART),
            Vec::new(),
        ),
        (
            "cloud-identity-manifest",
            vec!["tests/fixtures/deployments/cloud-identity-service-account/config.yaml"],
            Some(CHART),
            vec!["tests/fixtures/deployments/cloud-identity-service-account/serviceaccount.yaml"],
        ),
    ];
    let mut all: Vec<Case> = plain_cases()
        .into_iter()
        .map(|(c, f, v)| (c, f, v, Vec::new()))
        .collect();
    all.append(&mut with_manifests);
    all
}

/// (case, values files, chart folder)
fn plain_cases() -> Vec<(&'static str, Vec<&'static str>, Option<&'static str>)> {
    vec![
        (
            "real-world",
            vec![
                "golden/audit/real-world/config.yaml",
                "golden/audit/real-world/secrets.yaml",
            ],
            Some(CHART),
        ),
        (
            "chart-defaults",
            // Relative to the folder holding `chart-data/` (see `run_in`).
            vec!["chart-data/4.4.0/values.yaml"],
            Some(CHART),
        ),
        (
            "restricted",
            vec!["golden/check/override/security.yaml"],
            Some(CHART),
        ),
        (
            "override",
            vec![
                "golden/check/override/security.yaml",
                "golden/check/override/config.yaml",
            ],
            Some(CHART),
        ),
    ]
}

#[test]
fn proposals_match_and_pass_check_on_their_own_values() {
    let mut failures = Vec::new();
    for (case, files, chart, manifests) in cases() {
        let dir = Path::new("golden/init").join(case);
        std::fs::create_dir_all(&dir).unwrap();
        let mut args = vec!["init", "--name", "hub", "--from"];
        args.extend(&files);
        if let Some(c) = chart {
            args.extend(["--chart-version", c]);
        }
        if !manifests.is_empty() {
            args.push("--manifests");
            args.extend(&manifests);
        }
        let cwd = workdir(&files);
        let o = run_in(&cwd, &args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{case}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            text.starts_with("# yaml-language-server: $schema="),
            "{case}"
        );
        failures.extend(check_file(&dir.join("policy.yaml"), &text));
        failures.extend(check_file(
            &dir.join("stderr.txt"),
            &String::from_utf8_lossy(&o.stderr),
        ));
        // The round trip, on the file as written.
        let tmp = tempfile::tempdir().unwrap();
        let policy = tmp.path().join("policy.yaml");
        std::fs::write(&policy, &text).unwrap();
        let mut check = vec!["check", policy.to_str().unwrap(), "--values"];
        check.extend(&files);
        if let Some(c) = chart {
            check.extend(["--chart-version", c]);
        }
        if !manifests.is_empty() {
            check.push("--manifests");
            check.extend(&manifests);
        }
        let o = run_in(&cwd, &check);
        let report = String::from_utf8_lossy(&o.stdout);
        // The proposal states the pod without a profile: the only findings
        // allowed are profiles that weaken it, each at its profile's key.
        let findings: Vec<&str> = report
            .split("\n\n")
            .filter(|b| b.starts_with("HIGH") || b.starts_with("MEDIUM") || b.starts_with("LOW"))
            .collect();
        for f in &findings {
            assert!(
                f.lines()
                    .any(|l| l.trim_start().starts_with("at:") && l.contains("profileList[")),
                "{case}: check fails with the proposed policy on more than a profile:\n{report}"
            );
        }
        assert_eq!(
            o.status.code(),
            Some(if findings.is_empty() { 0 } else { 1 }),
            "{case}: check of the proposed policy:\n{report}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn closest_preset_and_what_cannot_be_said() {
    let read =
        |case: &str| std::fs::read_to_string(format!("golden/init/{case}/policy.yaml")).unwrap();
    // The compiled restricted policy comes back as `extends: restricted`.
    let restricted = read("restricted");
    assert!(
        restricted.contains("\nextends: restricted\n"),
        "{restricted}"
    );
    // Switching the user NetworkPolicy off is reproduced, not hidden.
    let over = read("override");
    let doc = z2jh_policy::yaml::parse(&over).unwrap().value;
    assert_eq!(
        doc.pointer("/spec/networkPolicy/singleuser"),
        Some(&serde_json::json!(false))
    );
    // Python, profile overrides and the chart pods' own limits are listed.
    let real = read("real-world");
    for needle in [
        "hub.extraConfig (00-templates, 10-spawner-hooks)",
        "profile `Systems course` overrides `privileged`",
        "`user-identity` cannot be read from the values",
    ] {
        assert!(real.contains(needle), "{needle} missing:\n{real}");
    }
    let doc = z2jh_policy::yaml::parse(&real).unwrap().value;
    assert_eq!(
        doc.pointer("/spec/resources/memory/limit"),
        Some(&serde_json::json!("8Gi"))
    );
    assert_eq!(
        doc.pointer("/spec/storage/capacity"),
        Some(&serde_json::json!("20Gi"))
    );
    // One privileged profile does not widen what every user gets: the
    // values deny escalation, so the proposal does too (the preset's).
    assert_eq!(doc.pointer("/spec/userPods/allowPrivilegeEscalation"), None);
    assert!(real.contains(
        "`singleuser.networkPolicy.egressAllowRules.privateIPs: true` lets user pods reach"
    ));
}

#[test]
fn unreadable_values_exit_2() {
    let o = run(&["init", "--from", "golden/init/missing.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}

/// `check --format json` of a policy file on values (and manifests): the
/// findings as (control, status).
fn findings(policy: &Path, values: &[&str], manifests: &[&str]) -> Vec<(String, String)> {
    let mut args = vec!["check", policy.to_str().unwrap(), "--values"];
    args.extend(values);
    args.extend(["--chart-version", CHART, "--format", "json"]);
    if !manifests.is_empty() {
        args.push("--manifests");
        args.extend(manifests);
    }
    let o = run(&args);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["control"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A hub whose user servers run as a cloud-bound ServiceAccount and whose
/// homes are subPaths of an existing claim: the proposal keeps the account,
/// the claim and the subPath pattern, lists what compiling it changes, and
/// `check` of it on the same values finds nothing init itself rewrote.
#[test]
fn an_existing_account_and_claim_are_kept() {
    const VALUES: &str = "golden/init/workload-identity/values.yaml";
    let text = std::fs::read_to_string("golden/init/workload-identity/policy.yaml").unwrap();
    let doc = z2jh_policy::yaml::parse(&text).unwrap().value;
    let at = |p: &str| doc.pointer(p).cloned().unwrap_or_default();
    assert_eq!(at("/spec/apiAccess/mode"), "workload-identity", "{text}");
    assert_eq!(
        at("/spec/apiAccess/workloadIdentity/serviceAccount"),
        "user-sa"
    );
    // Without the ServiceAccount the provider is unknown: asked for, not guessed.
    assert!(
        doc.pointer("/spec/apiAccess/workloadIdentity/provider")
            .is_none()
    );
    assert!(text.contains("set `apiAccess.workloadIdentity.provider` and `identity`"));
    assert_eq!(at("/spec/storage/nfs/isolation"), "shared-subpath");
    assert_eq!(at("/spec/storage/nfs/existingClaim"), "home-nfs");
    assert_eq!(at("/spec/storage/nfs/subPath"), "home/{username}");
    assert!(doc.pointer("/spec/storage/nfs/server").is_none(), "{text}");
    // What compiling it writes differently is listed; storage is not among it.
    let changes = text
        .split("# Compiling it changes (review before use):\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no list of changes:\n{text}"));
    assert!(changes.contains(
        "`hub.config.KubeSpawner.automount_service_account_token`: unset becomes `true`"
    ));
    assert!(!changes.contains("singleuser.storage"), "{changes}");
    assert!(!changes.contains("serviceAccountName"), "{changes}");

    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("policy.yaml");
    std::fs::write(&policy, &text).unwrap();
    // The round trip: nothing violated; API access cannot be verified only
    // because no manifests show the account's RoleBindings.
    let got = findings(&policy, &[VALUES], &[]);
    assert!(got.iter().all(|(_, s)| s != "violated"), "{got:?}");
    assert!(
        got.contains(&("api-access".into(), "cannot-verify".into())),
        "{got:?}"
    );
    assert!(!got.iter().any(|(c, _)| c == "storage"), "{got:?}");

    // Another claim, another subPath pattern, another account: each is found.
    let other = tmp.path().join("other.yaml");
    std::fs::write(
        &other,
        "singleuser:\n  serviceAccountName: other-sa\n  storage:\n    type: static\n    static:\n      pvcName: scratch\n      subPath: \"{username}\"\n",
    )
    .unwrap();
    let manifests = tmp.path().join("sa.yaml");
    std::fs::write(
        &manifests,
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: other-sa, namespace: jhub}\n",
    )
    .unwrap();
    let got = findings(
        &policy,
        &[other.to_str().unwrap()],
        &[manifests.to_str().unwrap()],
    );
    assert!(
        got.contains(&("storage".into(), "violated".into())),
        "{got:?}"
    );
    assert!(
        got.contains(&("api-access".into(), "violated".into())),
        "{got:?}"
    );
}

/// With the ServiceAccount given, its annotation names the provider and
/// the identity; `check` with the same manifests holds for API access.
#[test]
fn the_provider_is_read_from_the_service_account() {
    const DIR: &str = "tests/fixtures/deployments/cloud-identity-service-account";
    let text = std::fs::read_to_string("golden/init/cloud-identity-manifest/policy.yaml").unwrap();
    let doc = z2jh_policy::yaml::parse(&text).unwrap().value;
    let wi = doc.pointer("/spec/apiAccess/workloadIdentity").unwrap();
    assert_eq!(wi["serviceAccount"], "user-sa");
    assert_eq!(wi["provider"], "gke");
    assert_eq!(
        wi["identity"],
        "hub-users@example-project.iam.gserviceaccount.com"
    );
    // GKE serves the identity at the metadata address, which the values allow.
    assert_eq!(doc.pointer("/spec/cloudMetadata/mode").unwrap(), "allow");
    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("policy.yaml");
    std::fs::write(&policy, &text).unwrap();
    let got = findings(
        &policy,
        &[&format!("{DIR}/config.yaml")],
        &[&format!("{DIR}/serviceaccount.yaml")],
    );
    assert!(!got.iter().any(|(c, _)| c == "api-access"), "{got:?}");
    assert!(got.iter().all(|(_, s)| s != "violated"), "{got:?}");
    // A RoleBinding for the account makes it the RBAC-granting setting.
    let rbac = tmp.path().join("rbac.yaml");
    std::fs::write(
        &rbac,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: user-sa-edit, namespace: jhub}\nsubjects: [{kind: ServiceAccount, name: user-sa, namespace: jhub}]\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}\n",
    )
    .unwrap();
    let got = findings(
        &policy,
        &[&format!("{DIR}/config.yaml")],
        &[
            &format!("{DIR}/serviceaccount.yaml"),
            rbac.to_str().unwrap(),
        ],
    );
    assert!(
        got.contains(&("api-access".into(), "violated".into())),
        "{got:?}"
    );
}

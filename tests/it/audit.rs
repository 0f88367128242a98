//! `audit`: existing values graded against the `restricted` preset, in every
//! format; SARIF validated against the official SARIF 2.1.0 schema.
//! Regenerate with `UPDATE_GOLDEN=1 cargo test --test it audit::`.
#![allow(clippy::unwrap_used)]

use crate::common;
use common::binary::{output as run, stdout};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::check_file;
use serde_json::Value;

const REAL: &str = "golden/audit/real-world";

/// The chart's default values (written from the embedded 4.4.0 data), as a
/// path relative to where [`run_beside_chart`] runs (stable in goldens).
fn chart_values() -> String {
    "chart-data/4.4.0/values.yaml".into()
}

/// Runs with the folder holding `chart-data/` as working directory.
fn run_beside_chart(args: &[&str]) -> Output {
    let root = common::chart_data();
    common::binary::output_in(root.parent().unwrap(), args)
}

fn real_world(format: &str) -> Output {
    run(&[
        "audit",
        &format!("{REAL}/config.yaml"),
        &format!("{REAL}/secrets.yaml"),
        "--chart-version",
        "4.4.0",
        "--format",
        format,
    ])
}

fn ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn chart_defaults_are_graded() {
    let o = run_beside_chart(&["audit", &chart_values(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "findings exit 1");
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids = ids(&report);
    for id in [
        "Z2JH-cloud-metadata", // the privileged iptables init container
        "Z2JH-egress",         // every port to public addresses
        "Z2JH-seccomp",
        "Z2JH-capabilities", // no drop ALL
        "Z2JH-run-as-non-root",
        "Z2JH-resources", // no limits
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} missing from {ids:?}");
    }
    let f = |id: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(f("Z2JH-cloud-metadata")["found"]["name"], "iptables");
    let evidence = &f("Z2JH-cloud-metadata")["evidence"];
    assert_eq!(evidence["file"], chart_values());
    assert_eq!(
        evidence["key"],
        "singleuser.cloudMetadata.blockWithIptables"
    );
    assert_eq!(f("Z2JH-egress")["found"]["name"], "internet");
    assert_eq!(f("Z2JH-resources")["severity"], "high");
    let mut failures = Vec::new();
    for format in ["text", "sarif"] {
        let o = run_beside_chart(&["audit", &chart_values(), "--format", format]);
        let ext = if format == "sarif" { "sarif" } else { "txt" };
        failures.extend(check_file(
            Path::new(&format!("golden/audit/chart-defaults.{ext}")),
            &stdout(&o),
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn real_world_values_in_every_format() {
    let mut failures = Vec::new();
    for (format, ext) in [
        ("text", "txt"),
        ("json", "json"),
        ("markdown", "md"),
        ("sarif", "sarif"),
    ] {
        let o = real_world(format);
        assert_eq!(o.status.code(), Some(1), "{format}");
        // Notes (YAML 1.1 readings) only; never an error or a secret.
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.contains("error:") && !err.contains("00000000"),
            "{}",
            err
        );
        failures.extend(check_file(
            &Path::new(REAL).join(format!("audit.{ext}")),
            &stdout(&o),
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Profile overrides are findings only where the policy says no profile
/// may weaken a control; `mayWeaken: any` accepts them, and says so through
/// `profile-weakening` alone.
#[test]
fn profile_overrides_are_findings_only_when_the_policy_forbids_them() {
    let audit = |policy: &str| -> Value {
        let o = run(&[
            "audit",
            &format!("{REAL}/config.yaml"),
            &format!("{REAL}/secrets.yaml"),
            "--chart-version",
            "4.4.0",
            "--policy",
            policy,
            "--format",
            "json",
        ]);
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let forbid = audit("golden/diff/controls/profile-weakening/strong.yaml");
    let accept = audit("golden/diff/controls/profile-weakening/weak.yaml");
    let overrides = |r: &Value| {
        ids(r)
            .iter()
            .filter(|id| *id == "Z2JH-profile-override")
            .count()
    };
    assert!(overrides(&forbid) > 0, "{:?}", ids(&forbid));
    assert_eq!(overrides(&accept), 0, "{:?}", ids(&accept));
}

#[test]
fn real_world_values_are_judged_only_on_controls() {
    let report: Value = serde_json::from_slice(&real_world("json").stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    // Python in extraConfig sets the uid: said so, not guessed.
    let uid = findings
        .iter()
        .find(|f| f["id"] == "Z2JH-user-identity")
        .unwrap();
    assert_eq!(uid["status"], "cannot-verify");
    assert_eq!(uid["severity"], "info");
    // Profile overrides that can undo the policy, located in the file.
    // (Reported once: in the control's own finding when that override is
    // what decides it, else as a profile finding.)
    let overrides: Vec<(String, u64)> = findings
        .iter()
        .filter(|f| {
            f["evidence"]["key"]
                .as_str()
                .is_some_and(|k| k.contains("profileList"))
        })
        .map(|f| {
            (
                f["evidence"]["key"].as_str().unwrap().to_string(),
                f["evidence"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let keys: Vec<&str> = overrides.iter().map(|(k, _)| k.as_str()).collect();
    assert!(keys.contains(&"singleuser.profileList[2].kubespawner_override.uid"));
    assert!(keys.contains(&"singleuser.profileList[2].kubespawner_override.privileged"));
    // Dropping the iptables container in one choice changes nothing: the
    // NetworkPolicy keeps the metadata address out for every pod.
    assert!(
        !keys.iter().any(|k| k.ends_with("init_containers")),
        "{keys:?}"
    );
    let privileged = findings
        .iter()
        .find(|f| {
            f["evidence"]["key"] == "singleuser.profileList[2].kubespawner_override.privileged"
        })
        .unwrap();
    assert!(
        privileged["found"]["detail"]
            .as_str()
            .unwrap()
            .starts_with("privileged"),
        "{privileged}"
    );
    // GPU node selectors and tolerations are not security traits.
    assert!(
        !keys
            .iter()
            .any(|k| k.contains("tolerations") || k.contains("node_selector"))
    );
    // The egress opening is pinned to the line in config.yaml.
    let egress = findings.iter().find(|f| f["id"] == "Z2JH-egress").unwrap();
    assert_eq!(egress["evidence"]["file"], format!("{REAL}/config.yaml"));
    assert_eq!(
        egress["evidence"]["key"],
        "singleuser.networkPolicy.egressAllowRules.privateIPs"
    );
    // Every finding carries an id, severity and control; violations a fix.
    for f in findings {
        assert!(f["id"].as_str().unwrap().starts_with("Z2JH-"));
        assert!(f["control"].is_string() && f["severity"].is_string());
        if f["status"] == "violated" {
            assert!(
                f["fix"]["yaml"].is_string() || f["fix"]["manifests"].is_array(),
                "{f:#}"
            );
        }
    }
}

/// The official SARIF 2.1.0 schema, as shipped in the `serde-sarif` crate's
/// source (`src/schema.json`), found through `cargo metadata`.
fn sarif_schema() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc).arg("-vV").output().unwrap();
    let host = String::from_utf8_lossy(&version.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc -vV names the host");
    // Offline and for this platform only: every package it lists is already
    // downloaded, because this test was built from them.
    let meta = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", &host])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        meta.status.success(),
        "{}",
        String::from_utf8_lossy(&meta.stderr)
    );
    let meta: Value = serde_json::from_slice(&meta.stdout).unwrap();
    let manifest = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("serde-sarif is a dev-dependency");
    let path = PathBuf::from(manifest).with_file_name("src/schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        schema["title"],
        "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    );
    schema
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let schema = sarif_schema();
    let mut schema = schema;
    // The published schema's `language` patterns have a stray `]`, which
    // ECMA-262 regexes read as a literal but Rust's regex engine refuses;
    // escaping it keeps the meaning and lets the schema compile.
    fn escape_stray_bracket(v: &mut Value) -> usize {
        match v {
            Value::Object(m) => m
                .iter_mut()
                .map(|(k, x)| {
                    if k == "pattern" && x == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
                        *x = Value::from("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$");
                        1
                    } else {
                        escape_stray_bracket(x)
                    }
                })
                .sum(),
            Value::Array(a) => a.iter_mut().map(escape_stray_bracket).sum(),
            _ => 0,
        }
    }
    escape_stray_bracket(&mut schema);
    let validator = jsonschema::validator_for(&schema).unwrap();
    // The validator does reject a log that breaks the schema.
    let broken = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": [{"message": {}}]}]});
    assert!(!validator.is_valid(&broken));
    for o in [
        real_world("sarif"),
        run_beside_chart(&["audit", &chart_values(), "--format", "sarif"]),
        run(&[
            "check",
            "golden/check/override/policy.yaml",
            "--values",
            "golden/check/override/security.yaml",
            "golden/check/override/config.yaml",
            "--format",
            "sarif",
        ]),
        // Excepted results carry suppressions; an expired exception is a result.
        run(&[
            "check",
            "golden/check/exceptions/policy.yaml",
            "--values",
            "golden/check/exceptions/security.yaml",
            "golden/check/exceptions/gpu.yaml",
            "--today",
            "2027-03-01",
            "--format",
            "sarif",
        ]),
        run(&[
            "check",
            "golden/check/exceptions/policy.yaml",
            "--values",
            "golden/check/exceptions/security.yaml",
            "golden/check/exceptions/gpu.yaml",
            "--today",
            "2026-12-01",
            "--format",
            "sarif",
        ]),
    ] {
        let log: Value = serde_json::from_slice(&o.stdout).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        // The typed model reads it too.
        let typed: serde_sarif::sarif::Sarif = serde_json::from_value(log.clone()).unwrap();
        assert_eq!(typed.runs.len(), 1);
        // Locations are relative to the source root, with line and column.
        for r in log["runs"][0]["results"].as_array().unwrap() {
            let loc = &r["locations"][0]["physicalLocation"];
            let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
            assert!(!uri.starts_with('/') && !uri.contains("://"), "{uri}");
            assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
            assert!(loc["region"]["startColumn"].as_u64().unwrap() >= 1);
            let rule = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(
                log["runs"][0]["tool"]["driver"]["rules"][rule]["id"],
                r["ruleId"]
            );
        }
    }
}

#[test]
fn clean_values_pass_and_bad_values_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let c = z2jh_policy::compile::compile(
        &z2jh_policy::parse::Input::File("examples/restricted-hub.yaml".into()),
        &Default::default(),
    )
    .unwrap();
    let values = dir.path().join("values.yaml");
    std::fs::write(&values, z2jh_policy::yaml::to_string(&c.rendered.values)).unwrap();
    let o = run(&["audit", values.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("no findings"));

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "singleuser:\n  uid: 1000\n  uid: 0\n").unwrap();
    // Helm keeps the last of repeated keys: read that way, with a warning.
    let o = run(&["audit", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("duplicate") && err.contains(":3:"), "{err}");
    assert!(stdout(&o).contains("uid 0"), "{}", stdout(&o));
    // A comment-only file is an empty values file, as for Helm.
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, "# nothing yet\n").unwrap();
    assert_eq!(
        run(&["audit", values.to_str().unwrap(), empty.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn plain_http_beside_an_ingress_is_found_and_the_fix_keeps_the_ingress() {
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("values.yaml");
    std::fs::write(
        &values,
        "ingress:\n  enabled: true\n  ingressClassName: nginx\n  hosts: [hub.example.edu]\n  tls:\n    - hosts: [hub.example.edu]\n      secretName: hub-tls\n",
    )
    .unwrap();
    let o = run(&[
        "audit",
        values.to_str().unwrap(),
        "--chart-version",
        "4.4.0",
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let https = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["control"] == "https")
        .expect("the LoadBalancer beside the Ingress is a finding");
    assert_eq!(https["required"]["name"], "ingress");
    assert_eq!(https["found"]["name"], "disabled");
    assert!(
        https["found"]["detail"]
            .as_str()
            .unwrap()
            .contains("plain HTTP is published beside the TLS Ingress"),
        "{https:#}"
    );
    let fix = &https["fix"]["values"];
    assert_eq!(fix["proxy"]["service"]["type"], "ClusterIP");
    assert_eq!(fix["ingress"]["tls"][0]["secretName"], "hub-tls");
    assert_eq!(fix["ingress"]["ingressClassName"], "nginx");
    assert_eq!(https["evidence"]["key"], "proxy.service.type");

    // With proxy-public internal, the same Ingress holds.
    std::fs::write(
        dir.path().join("internal.yaml"),
        "proxy:\n  service:\n    type: ClusterIP\n",
    )
    .unwrap();
    let o = run(&[
        "audit",
        values.to_str().unwrap(),
        dir.path().join("internal.yaml").to_str().unwrap(),
        "--chart-version",
        "4.4.0",
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        report["holds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h == "https" || h["control"] == "https"),
        "{:#}",
        report["holds"]
    );
}

const CREDENTIALS: &str = "golden/audit/credentials/values.yaml";

/// Runs the binary with `stdin` as its input.
fn run_with_stdin(args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = common::binary::command()
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Literal credentials are found by key, cited by file and line, and what
/// they hold appears in no output of `audit`, `check`, `diff`, `init` or
/// `terraform`, in any format, on stdout or stderr.
#[test]
fn credentials_are_found_and_never_printed() {
    let policy = "golden/secrets-existing-secret/policy.yaml";
    let dir = tempfile::tempdir().unwrap();
    let mut outputs: Vec<(String, Output)> = Vec::new();
    let mut record = |what: String, o: Output| outputs.push((what, o));
    for format in ["text", "json", "markdown", "sarif"] {
        let args = [
            "audit",
            CREDENTIALS,
            "--chart-version",
            "4.4.0",
            "--format",
            format,
        ];
        record(format!("audit {format}"), run(&args));
        let args = [
            "check",
            policy,
            "--values",
            CREDENTIALS,
            "--chart-version",
            "4.4.0",
            "--format",
            format,
        ];
        record(format!("check {format}"), run(&args));
    }
    // The compiled output with the credentials written into it by hand.
    let committed = dir.path().join("committed");
    let committed_s = committed.display().to_string();
    let o = run(&["compile", policy, "-o", &committed_s, "-q"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let values_path = committed.join("values.yaml");
    let compiled = std::fs::read_to_string(&values_path).unwrap();
    let mut values = z2jh_policy::yaml::parse(&compiled).unwrap().value;
    let literal = z2jh_policy::yaml::parse(&std::fs::read_to_string(CREDENTIALS).unwrap())
        .unwrap()
        .value;
    z2jh_policy::values::helm_merge(&mut values, &literal);
    std::fs::write(&values_path, z2jh_policy::yaml::to_string(&values)).unwrap();
    for format in ["text", "json", "markdown"] {
        let args = [
            "diff",
            policy,
            "--against",
            &committed_s,
            "--format",
            format,
        ];
        let o = run(&args);
        assert_eq!(o.status.code(), Some(1), "diff {format}");
        record(format!("diff {format}"), o);
    }
    let init = run(&["init", "--from", CREDENTIALS]);
    assert!(
        String::from_utf8_lossy(&init.stdout).contains("credentials are written into the values"),
        "{}",
        String::from_utf8_lossy(&init.stdout)
    );
    record("init".into(), init);
    let query = serde_json::json!({"policy": policy, "base_values": CREDENTIALS}).to_string();
    let o = run_with_stdin(&["terraform"], &query);
    assert_eq!(o.status.code(), Some(2), "terraform refuses to carry them");
    record("terraform".into(), o);

    for (what, o) in &outputs {
        for (stream, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.contains("leakcanary"),
                "{what} printed a credential on {stream}:\n{text}"
            );
        }
    }

    // What was found: every kind, by key, the first cited by file and line.
    let audit: Value = serde_json::from_slice(&outputs[2].1.stdout).unwrap();
    let f = audit["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "Z2JH-secrets")
        .unwrap();
    assert_eq!(f["status"], "violated");
    assert_eq!(f["found"]["name"], "literals-allowed");
    assert_eq!(f["evidence"]["file"], CREDENTIALS);
    assert_eq!(f["evidence"]["line"], 4);
    assert_eq!(f["evidence"]["key"], "hub.cookieSecret");
    let detail = f["found"]["detail"].as_str().unwrap();
    for key in [
        "hub.cookieSecret",
        "proxy.secretToken",
        "hub.db.password",
        "hub.config.CryptKeeper.keys",
        "hub.config.GenericOAuthenticator.client_secret",
        "hub.services.grader.apiToken",
        "hub.extraEnv.GITLAB_TOKEN",
        "hub.extraFiles.s3.data.s3.secret_access_key",
        "singleuser.extraEnv[0].value",
        "singleuser.extraFiles.deploy-key.stringData",
    ] {
        assert!(detail.contains(&format!("`{key}`")), "{key}: {detail}");
    }
    for not in ["OAUTH_CALLBACK_URL", "DB_PASSWORD", "LANG", "client_id"] {
        assert!(!detail.contains(not), "{not}: {detail}");
    }
    // The fix swaps literals for references, naming the Secret of the policy.
    let fix = f["fix"]["yaml"].as_str().unwrap();
    assert!(fix.contains("existingSecret: hub-credentials"), "{fix}");
    assert!(fix.contains("cookieSecret: null"), "{fix}");
    assert!(fix.contains("secretKeyRef"), "{fix}");
    // SARIF: the result sits on the line of the first credential.
    let sarif: Value = serde_json::from_slice(&outputs[6].1.stdout).unwrap();
    let result = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "Z2JH-secrets")
        .unwrap();
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        4
    );
}

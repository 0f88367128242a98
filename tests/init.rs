//! `init --from`: the proposed policy for existing values, and the round
//! trip — `check` with the proposal on the same values passes.
//! Regenerate with `UPDATE_GOLDEN=1 cargo test --test init`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::check_file;

fn run(args: &[&str]) -> Output {
    run_in(Path::new("."), args)
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_z2jh-policy"))
        .args(args)
        .current_dir(dir)
        .env_remove("Z2JH_POLICY_ERROR_FORMAT")
        .output()
        .unwrap()
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

/// (case, values files, chart folder)
fn cases() -> Vec<(&'static str, Vec<&'static str>, Option<&'static str>)> {
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
    for (case, files, chart) in cases() {
        let dir = Path::new("golden/init").join(case);
        std::fs::create_dir_all(&dir).unwrap();
        let mut args = vec!["init", "--name", "hub", "--from"];
        args.extend(&files);
        if let Some(c) = chart {
            args.extend(["--chart-version", c]);
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
        let o = run_in(&cwd, &check);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{case}: check fails with the proposed policy:\n{}",
            String::from_utf8_lossy(&o.stdout)
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
}

#[test]
fn unreadable_values_exit_2() {
    let o = run(&["init", "--from", "golden/init/missing.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}

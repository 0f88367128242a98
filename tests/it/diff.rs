//! `z2jh-policy diff`: golden reports, every control in both directions,
//! drift of committed output, exit codes, git revisions and redaction.
//!
//! Regenerate every golden file of this suite (inputs generated here
//! included) with `UPDATE_GOLDEN=1 cargo test --test it diff`.
//!
//! - `golden/diff/controls/<control>/`: for each control of
//!   `controls::ALL`, a strong and a weak policy generated from the
//!   control's own settings, and the text report of the change each way.
//!   A control the generator cannot vary fails the test.
//! - `golden/diff/<case>/`: representative cases in every format
//!   (`text.txt`, `markdown.md`, `json.json`); drift cases keep their
//!   committed directory, generated as compiled output plus a hand edit.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::{Path, PathBuf};

use common::check_file;
use common::diff_cli::*;
use serde_json::{Value, json};
use z2jh_policy::compile::{Options, compile};
use z2jh_policy::parse::Input;
use z2jh_policy::yaml;

// ------------------------------------------------------------ representative cases

/// A committed directory: the compiled output of `policy`, changed by hand.
struct Drift {
    policy: &'static str,
    edit: fn(&mut Vec<(String, String)>),
}

/// Changes the body of `values.yaml` through its data (so the rest of the
/// file stays byte for byte as compiled).
fn edit_values(files: &mut [(String, String)], f: impl FnOnce(&mut Value)) {
    let (_, text) = files.iter_mut().find(|(p, _)| p == "values.yaml").unwrap();
    let body = diff_body(text);
    let header = text[..text.len() - body.len()].to_string();
    let mut v = yaml::parse(body).unwrap().value;
    f(&mut v);
    *text = format!("{header}{}", yaml::to_string(&v));
}

fn diff_body(text: &str) -> &str {
    let mut rest = text;
    while rest.starts_with('#') {
        rest = rest.split_once('\n').map_or("", |(_, r)| r);
    }
    rest
}

fn compiled_files(policy: &str) -> Vec<(String, String)> {
    let c = compile(&Input::File(policy.into()), &Options::default()).unwrap();
    c.output.texts().map(|(p, t)| (p.to_string(), t)).collect()
}

struct Case {
    name: &'static str,
    args: &'static [&'static str],
    /// The committed directory (`golden/diff/<name>/committed`) for `--against`.
    drift: Option<Drift>,
    /// Exit status with the default `--fail-on any`, and with `--fail-on weaken`.
    exit: (i32, i32),
}

const CASES: &[Case] = &[
    Case {
        // A pull request that weakens a control with an exception for it, and
        // adds an exception the policy does not need yet: both count as
        // weakening; the one that ends within 30 days is listed.
        name: "exception-added",
        args: &[
            "diff",
            "golden/exception-hub-wide/policy.yaml",
            "--base",
            "golden/restricted/policy.yaml",
            "--today",
            "2026-12-01",
        ],
        drift: None,
        exit: (1, 1),
    },
    Case {
        // Renewing an expired exception (the old side still compiles) with a
        // new owner, and removing another.
        name: "exception-renewed",
        args: &[
            "diff",
            "golden/diff/exception-renewed/head.yaml",
            "--base",
            "golden/check/exceptions/policy.yaml",
            "--today",
            "2027-03-01",
            "--expiring-within",
            "200",
        ],
        drift: None,
        exit: (1, 1),
    },
    Case {
        name: "weaken",
        args: &[
            "diff",
            "golden/extends-weakens-parent/policy.yaml",
            "--base",
            "golden/restricted/policy.yaml",
        ],
        drift: None,
        exit: (1, 1),
    },
    Case {
        // A host name added at the same setting (`names`): a widening.
        name: "names-added",
        args: &[
            "diff",
            "golden/diff/names-added/head.yaml",
            "--base",
            "golden/egress-names/policy.yaml",
        ],
        drift: None,
        exit: (1, 1),
    },
    Case {
        name: "strengthen",
        args: &[
            "diff",
            "golden/restricted/policy.yaml",
            "--base",
            "golden/extends-weakens-parent/policy.yaml",
        ],
        drift: None,
        exit: (1, 0),
    },
    Case {
        name: "no-difference",
        args: &[
            "diff",
            "golden/restricted/policy.yaml",
            "--base",
            "golden/restricted/policy.yaml",
        ],
        drift: None,
        exit: (0, 0),
    },
    Case {
        // Secrets in the output (a TLS key in values.yaml) are never shown;
        // allowing the key in values weakens `secrets`.
        name: "secret-redacted",
        args: &[
            "diff",
            "golden/https-manual/policy.yaml",
            "--base",
            "golden/restricted/policy.yaml",
            "-U",
            "8",
        ],
        drift: None,
        exit: (1, 1),
    },
    Case {
        // A big change cut to a small comment, with a named marker.
        name: "oversized",
        args: &[
            "diff",
            "golden/baseline/policy.yaml",
            "--base",
            "golden/restricted/policy.yaml",
            "--max-comment-chars",
            "6000",
            "--marker",
            "hub-a",
            "--full-report-url",
            "https://ci.example.org/runs/42",
        ],
        drift: None,
        exit: (1, 1),
    },
    Case {
        name: "in-sync",
        args: &["diff", "golden/restricted/policy.yaml", "--against"],
        drift: Some(Drift {
            policy: "golden/restricted/policy.yaml",
            edit: |_| {},
        }),
        exit: (0, 0),
    },
    Case {
        // `singleuser.networkPolicy.enabled: false` typed into values.yaml.
        name: "hand-edit",
        args: &["diff", "golden/restricted/policy.yaml", "--against"],
        drift: Some(Drift {
            policy: "golden/restricted/policy.yaml",
            edit: |files| {
                edit_values(files, |v| {
                    v["singleuser"]["networkPolicy"]["enabled"] = json!(false);
                })
            },
        }),
        exit: (1, 1),
    },
    Case {
        // A label added by hand: drift, but no control changes.
        name: "harmless-edit",
        args: &["diff", "golden/restricted/policy.yaml", "--against"],
        drift: Some(Drift {
            policy: "golden/restricted/policy.yaml",
            edit: |files| {
                edit_values(files, |v| {
                    v["singleuser"]["extraLabels"] = json!({"team": "data-science"});
                })
            },
        }),
        exit: (1, 0),
    },
    Case {
        // The namespace manifest (Pod Security labels) was never committed.
        name: "missing-file",
        args: &["diff", "golden/restricted/policy.yaml", "--against"],
        drift: Some(Drift {
            policy: "golden/restricted/policy.yaml",
            edit: |files| files.retain(|(p, _)| p != "manifests/namespace.yaml"),
        }),
        exit: (1, 1),
    },
    Case {
        // A quota manifest the policy does not produce: extra, and stronger.
        name: "extra-file",
        args: &["diff", "golden/restricted/policy.yaml", "--against"],
        drift: Some(Drift {
            policy: "golden/restricted/policy.yaml",
            edit: |files| {
                let quota = compiled_files("golden/quota-enabled/policy.yaml")
                    .into_iter()
                    .find(|(p, _)| p == "manifests/quota.yaml")
                    .unwrap();
                files.push(quota);
            },
        }),
        exit: (1, 0),
    },
    Case {
        // The policy was strengthened but the output not regenerated.
        name: "stale-output",
        args: &["diff", "golden/restricted/policy.yaml", "--against"],
        drift: Some(Drift {
            policy: "golden/extends-weakens-parent/policy.yaml",
            edit: |_| {},
        }),
        exit: (1, 1),
    },
    Case {
        // A hand-edited TLS key: shown as changed, never printed.
        name: "secret-edit",
        args: &["diff", "golden/https-manual/policy.yaml", "--against"],
        drift: Some(Drift {
            policy: "golden/https-manual/policy.yaml",
            edit: |files| {
                edit_values(files, |v| {
                    v["proxy"]["https"]["manual"]["key"] = json!(
                        "-----BEGIN PRIVATE KEY-----\nhandeditedkeyfortestsonly\n-----END PRIVATE KEY-----\n"
                    );
                })
            },
        }),
        exit: (1, 0),
    },
    Case {
        // Credentials written into the committed values of a policy that
        // allows only references: `secrets` weakens, the values stay hidden.
        name: "secret-literal-added",
        args: &[
            "diff",
            "golden/secrets-existing-secret/policy.yaml",
            "--against",
        ],
        drift: Some(Drift {
            policy: "golden/secrets-existing-secret/policy.yaml",
            edit: |files| {
                edit_values(files, |v| {
                    v["hub"]["cookieSecret"] = json!("cookiesecretfortestsonly");
                    v["hub"]["config"]["GitHubOAuthenticator"] =
                        json!({"client_id": "0123", "client_secret": "clientsecretfortestsonly"});
                    v["hub"]["extraEnv"]["GITHUB_TOKEN"] = json!("githubtokenfortestsonly");
                })
            },
        }),
        exit: (1, 1),
    },
    Case {
        // The load balancer's source ranges removed by hand: open to all.
        name: "exposure-opened",
        args: &[
            "diff",
            "golden/exposure-source-ranges/policy.yaml",
            "--against",
        ],
        drift: Some(Drift {
            policy: "golden/exposure-source-ranges/policy.yaml",
            edit: |files| {
                edit_values(files, |v| {
                    v["proxy"]["service"]
                        .as_object_mut()
                        .unwrap()
                        .remove("loadBalancerSourceRanges");
                })
            },
        }),
        exit: (1, 1),
    },
];

/// Writes (or checks) the committed directory of a drift case; returns its path.
fn committed_dir(case: &Case, drift: &Drift, failures: &mut Vec<String>) -> PathBuf {
    let dir = Path::new("golden/diff").join(case.name).join("committed");
    let mut files = compiled_files(drift.policy);
    (drift.edit)(&mut files);
    if updating() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    for (rel, text) in &files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        failures.extend(check_file(&path, text));
    }
    // No stale file may stay behind in the fixture.
    let mut present = Vec::new();
    for sub in ["", "manifests"] {
        if let Ok(rd) = std::fs::read_dir(dir.join(sub)) {
            for e in rd.flatten().filter(|e| e.path().is_file()) {
                let name = e.file_name().to_string_lossy().into_owned();
                present.push(if sub.is_empty() {
                    name
                } else {
                    format!("{sub}/{name}")
                });
            }
        }
    }
    present.sort();
    let mut wanted: Vec<String> = files.iter().map(|(p, _)| p.clone()).collect();
    wanted.sort();
    if present != wanted {
        failures.push(format!(
            "{}: has {present:?}, wanted {wanted:?}",
            dir.display()
        ));
    }
    dir
}

fn case_args(case: &Case, dir: Option<&Path>) -> Vec<String> {
    let mut args: Vec<String> = case.args.iter().map(|s| s.to_string()).collect();
    if let Some(d) = dir {
        args.push(d.display().to_string());
    }
    args
}

#[test]
fn golden_reports_in_every_format() {
    let mut failures = Vec::new();
    for case in CASES {
        let dir = case
            .drift
            .as_ref()
            .map(|d| committed_dir(case, d, &mut failures));
        let args = case_args(case, dir.as_deref());
        let out_dir = Path::new("golden/diff").join(case.name);
        std::fs::create_dir_all(&out_dir).unwrap();
        for (format, file) in [
            ("text", "text.txt"),
            ("markdown", "markdown.md"),
            ("json", "json.json"),
        ] {
            let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
            a.extend(["--format", format]);
            let o = run(&a);
            if o.status.code() != Some(case.exit.0) {
                failures.push(format!(
                    "{} {format}: exit {:?}, wanted {}; stderr: {}",
                    case.name,
                    o.status.code(),
                    case.exit.0,
                    stderr(&o)
                ));
            }
            failures.extend(check_file(&out_dir.join(file), &stdout(&o)));
        }
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        a.extend(["--fail-on", "weaken"]);
        let code = run(&a).status.code();
        if code != Some(case.exit.1) {
            failures.push(format!(
                "{} --fail-on weaken: exit {code:?}, wanted {}",
                case.name, case.exit.1
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn golden_json(case: &str) -> Value {
    let text = std::fs::read_to_string(format!("golden/diff/{case}/json.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn what_the_golden_reports_say() {
    // A weakening hand edit is classified from the values it leaves.
    let hand = golden_json("hand-edit");
    let w = weakened(&hand);
    assert!(w.contains(&"network-policy".to_string()), "{w:?}");
    assert!(w.contains(&"egress".to_string()), "{w:?}");
    assert_eq!(hand["mode"], "drift");
    assert_eq!(hand["files"][0]["status"], "changed");
    // Missing and extra files.
    let missing = golden_json("missing-file");
    assert!(
        missing["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "manifests/namespace.yaml" && f["status"] == "missing")
    );
    assert_eq!(weakened(&missing), ["pod-security-admission"]);
    let extra = golden_json("extra-file");
    assert!(
        extra["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "manifests/quota.yaml" && f["status"] == "extra")
    );
    assert!(weakened(&extra).is_empty());
    // Harmless drift: files differ, no control does.
    let harmless = golden_json("harmless-edit");
    assert_eq!(harmless["summary"]["differences"], true);
    assert!(harmless["controls"].as_array().unwrap().is_empty());
    // A host name added at the same setting widens.
    let names = golden_json("names-added");
    assert_eq!(weakened(&names), ["egress-names"]);
    // The user pods' level heads the posture.
    let weaken = golden_json("weaken");
    assert_eq!(weaken["posture"][0]["control"], "user-pod-level");
    assert_eq!(weaken["posture"][0]["before"], "restricted (auto)");
    assert_eq!(weaken["posture"][0]["after"], "baseline (auto)");
    assert_eq!(weaken["posture"][0]["direction"], "weakens");
    // Markdown: marker first, summary before any diff, the limit kept.
    let md = std::fs::read_to_string("golden/diff/oversized/markdown.md").unwrap();
    assert!(md.starts_with("<!-- z2jh-policy diff: hub-a -->\n"));
    assert!(md.len() <= 6000, "{}", md.len());
    assert!(md.contains("Shortened to fit a comment"));
    assert!(md.contains("https://ci.example.org/runs/42"));
    assert!(md.find("| Security posture").unwrap() < md.find("<details>").unwrap_or(md.len()));
}

#[test]
fn secrets_never_reach_a_report() {
    for case in ["secret-redacted", "secret-edit", "secret-literal-added"] {
        for file in ["text.txt", "markdown.md", "json.json"] {
            let text = std::fs::read_to_string(format!("golden/diff/{case}/{file}")).unwrap();
            assert!(!text.contains("fortestsonly"), "{case}/{file}");
            assert!(text.contains("[redacted #"), "{case}/{file}");
        }
    }
}

// ------------------------------------------------------------ exit codes and errors

#[test]
fn exit_codes_zero_one_two() {
    let same = [
        "diff",
        "golden/restricted/policy.yaml",
        "--base",
        "golden/restricted/policy.yaml",
    ];
    assert_eq!(run(&same).status.code(), Some(0));
    let changed = [
        "diff",
        "golden/extends-weakens-parent/policy.yaml",
        "--base",
        "golden/restricted/policy.yaml",
    ];
    assert_eq!(run(&changed).status.code(), Some(1));
    // Nothing to compare with, a directory that is not there, a bad policy
    // on either side: exit 2, a message on stderr, nothing on stdout.
    for args in [
        &["diff", "golden/restricted/policy.yaml"][..],
        &[
            "diff",
            "golden/restricted/policy.yaml",
            "--against",
            "no/such/dir",
        ],
        &[
            "diff",
            "golden/error-schema/policy.yaml",
            "--base",
            "golden/restricted/policy.yaml",
        ],
        &[
            "diff",
            "golden/restricted/policy.yaml",
            "--base",
            "golden/error-schema/policy.yaml",
        ],
        &[
            "diff",
            "golden/restricted/policy.yaml",
            "--base",
            "no/such/policy.yaml",
        ],
        &[
            "diff",
            "golden/restricted/policy.yaml",
            "--base",
            "golden/restricted/policy.yaml",
            "--max-comment-chars",
            "10",
        ],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
        assert!(!o.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn fail_on_weaken_passes_neutral_drift_and_blocks_weakening() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files = compiled_files("golden/restricted/policy.yaml");
    edit_values(&mut files, |v| {
        v["singleuser"]["extraLabels"] = json!({"team": "a"});
    });
    for (rel, text) in &files {
        let p = tmp.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let dir = tmp.path().display().to_string();
    let args = ["diff", "golden/restricted/policy.yaml", "--against", &dir];
    assert_eq!(
        run(&args).status.code(),
        Some(1),
        "any difference fails by default"
    );
    assert_eq!(
        run(&[&args[..], &["--fail-on", "any"]].concat())
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(&[&args[..], &["--fail-on", "weaken"]].concat())
            .status
            .code(),
        Some(0),
        "neutral drift passes the weakening gate"
    );
    edit_values(&mut files, |v| {
        v["singleuser"]["networkPolicy"]["enabled"] = json!(false);
    });
    let values = files.iter().find(|(p, _)| p == "values.yaml").unwrap();
    std::fs::write(tmp.path().join("values.yaml"), &values.1).unwrap();
    assert_eq!(
        run(&[&args[..], &["--fail-on", "weaken"]].concat())
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn a_broken_committed_file_is_an_error_with_its_location() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("values.yaml"),
        "hub:\n  config: [unclosed\n",
    )
    .unwrap();
    let dir = tmp.path().display().to_string();
    let o = run(&["diff", "golden/restricted/policy.yaml", "--against", &dir]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("values.yaml:"), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn committed_files_are_read_back_over_chart_defaults() {
    // With the chart's defaults under them, values that leave a key out
    // read back as the chart's default.
    let charts = common::chart_data().join("4.4.0");
    let tmp = tempfile::tempdir().unwrap();
    let mut files = compiled_files("golden/restricted/policy.yaml");
    edit_values(&mut files, |v| {
        v["singleuser"]["networkPolicy"]
            .as_object_mut()
            .unwrap()
            .remove("egressAllowRules");
    });
    for (rel, text) in &files {
        let p = tmp.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let o = run(&[
        "diff",
        "golden/restricted/policy.yaml",
        "--against",
        &tmp.path().display().to_string(),
        "--chart",
        &charts.display().to_string(),
        "--format",
        "json",
    ]);
    let r: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", stderr(&o)));
    assert!(
        weakened(&r).contains(&"egress".to_string()),
        "{}",
        r["controls"]
    );
}

#[test]
fn colour_only_when_asked() {
    let args = [
        "diff",
        "golden/extends-weakens-parent/policy.yaml",
        "--base",
        "golden/restricted/policy.yaml",
    ];
    // Not a terminal: no colour, whatever NO_COLOR says.
    let plain = bin().args(args).env_remove("NO_COLOR").output().unwrap();
    assert!(!plain.stdout.contains(&0x1b));
    let forced = run(&[&args[..], &["--color", "always"]].concat());
    assert!(stdout(&forced).contains("\x1b[1;31mWEAKENS"));
    let never = run(&[&args[..], &["--color", "never"]].concat());
    assert!(!never.stdout.contains(&0x1b));
}

#[test]
fn context_lines_follow_u() {
    let args = [
        "diff",
        "golden/extends-weakens-parent/policy.yaml",
        "--base",
        "golden/restricted/policy.yaml",
        "--format",
        "json",
    ];
    let hunk_lines = |u: &str| {
        let r: Value =
            serde_json::from_slice(&run(&[&args[..], &["-U", u]].concat()).stdout).unwrap();
        r["files"][0]["diff"].as_str().unwrap().lines().count()
    };
    assert!(hunk_lines("0") < hunk_lines("3"));
    assert!(hunk_lines("3") < hunk_lines("10"));
}

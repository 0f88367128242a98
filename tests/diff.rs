//! `z2jh-policy diff`: classification of every control in both directions,
//! golden reports in each format, exit codes, git revisions and redaction.
//! Regenerate the reports with `UPDATE_GOLDEN=1 cargo test --test diff`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{cases, check_file, policy_path};
use z2jh_policy::controls::ALL;
use z2jh_policy::diff::Direction;
use z2jh_policy::parse::{Input, load};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_z2jh-policy"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).env("NO_COLOR", "1").output().unwrap()
}

/// For every control, two golden policies whose settings differ in
/// strength: the change one way must read "weakens", the other "strengthens".
#[test]
fn every_control_is_classified_in_both_directions() {
    let loaded: Vec<_> = cases()
        .into_iter()
        .filter_map(|c| load(&Input::File(policy_path(&c))).ok())
        .collect();
    let mut missing = Vec::new();
    for control in ALL {
        let def = control.def();
        let rank = |i: usize| def.setting(&control.selected(&loaded[i].policy)).rank;
        let pair = (0..loaded.len())
            .flat_map(|a| (0..loaded.len()).map(move |b| (a, b)))
            .find(|&(a, b)| rank(a) < rank(b));
        let Some((strong, weak)) = pair else {
            missing.push(def.id);
            continue;
        };
        let down = z2jh_policy::diff::policy_changes(&loaded[strong].policy, &loaded[weak].policy);
        let up = z2jh_policy::diff::policy_changes(&loaded[weak].policy, &loaded[strong].policy);
        let find = |v: &[z2jh_policy::diff::ControlChange]| {
            v.iter().find(|c| c.control == def.id).map(|c| c.direction)
        };
        assert_eq!(
            find(&down),
            Some(Direction::Weakens),
            "{}: {} → {}",
            def.id,
            loaded[strong].origin,
            loaded[weak].origin
        );
        assert_eq!(
            find(&up),
            Some(Direction::Strengthens),
            "{}: {} → {}",
            def.id,
            loaded[weak].origin,
            loaded[strong].origin
        );
    }
    assert!(
        missing.is_empty(),
        "controls without a pair of golden cases of different strength: {missing:?}"
    );
}

struct Case {
    name: &'static str,
    args: &'static [&'static str],
    code: i32,
}

const CASES: &[Case] = &[
    Case {
        name: "weaken",
        args: &[
            "diff",
            "golden/extends-weakens-parent/policy.yaml",
            "--base",
            "golden/restricted/policy.yaml",
        ],
        code: 1,
    },
    Case {
        name: "strengthen",
        args: &[
            "diff",
            "golden/restricted/policy.yaml",
            "--base",
            "golden/extends-weakens-parent/policy.yaml",
        ],
        code: 1,
    },
    Case {
        name: "hand-edit",
        args: &[
            "diff",
            "golden/restricted/policy.yaml",
            "--against",
            "golden/diff/hand-edit/committed",
        ],
        code: 1,
    },
    Case {
        name: "missing-file",
        args: &[
            "diff",
            "golden/restricted/policy.yaml",
            "--against",
            "golden/diff/missing-file/committed",
        ],
        code: 1,
    },
    Case {
        name: "harmless-edit",
        args: &[
            "diff",
            "golden/restricted/policy.yaml",
            "--against",
            "golden/diff/harmless-edit/committed",
        ],
        code: 1,
    },
];

#[test]
fn golden_reports_in_every_format() {
    let mut failures = Vec::new();
    for case in CASES {
        for (format, file) in [
            ("text", "text.txt"),
            ("markdown", "markdown.md"),
            ("json", "report.json"),
        ] {
            let mut args = case.args.to_vec();
            args.extend(["--format", format]);
            let o = run(&args);
            if o.status.code() != Some(case.code) {
                failures.push(format!(
                    "{} {format}: exit {:?}, stderr {}",
                    case.name,
                    o.status.code(),
                    String::from_utf8_lossy(&o.stderr)
                ));
            }
            let dir = Path::new("golden/diff").join(case.name);
            std::fs::create_dir_all(&dir).unwrap();
            failures.extend(check_file(
                &dir.join(file),
                &String::from_utf8_lossy(&o.stdout),
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn hand_edit_that_weakens_is_reported_as_weakening() {
    let o = run(&[
        "diff",
        "golden/restricted/policy.yaml",
        "--against",
        "golden/diff/hand-edit/committed",
        "--format",
        "json",
    ]);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let weak: Vec<&str> = r["controls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["direction"] == "weakens")
        .map(|c| c["control"].as_str().unwrap())
        .collect();
    assert!(
        weak.contains(&"network-policy") && weak.contains(&"egress"),
        "{weak:?}"
    );
}

#[test]
fn fail_on_weaken_lets_harmless_drift_pass() {
    let args = [
        "diff",
        "golden/restricted/policy.yaml",
        "--against",
        "golden/diff/harmless-edit/committed",
    ];
    assert_eq!(
        run(&args).status.code(),
        Some(1),
        "any difference fails by default"
    );
    let mut weaken = args.to_vec();
    weaken.extend(["--fail-on", "weaken"]);
    assert_eq!(run(&weaken).status.code(), Some(0));
    let mut hand = [
        "diff",
        "golden/restricted/policy.yaml",
        "--against",
        "golden/diff/hand-edit/committed",
    ]
    .to_vec();
    hand.extend(["--fail-on", "weaken"]);
    assert_eq!(run(&hand).status.code(), Some(1));
}

#[test]
fn no_difference_exits_zero_and_errors_exit_two() {
    let o = run(&[
        "diff",
        "golden/restricted/policy.yaml",
        "--base",
        "golden/restricted/policy.yaml",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("no differences"));
    assert_eq!(
        run(&["diff", "golden/restricted/policy.yaml"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&[
            "diff",
            "golden/restricted/policy.yaml",
            "--against",
            "no/such/dir"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        run(&[
            "diff",
            "golden/error-schema/policy.yaml",
            "--base",
            "golden/restricted/policy.yaml"
        ])
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn markdown_is_cut_to_the_comment_limit_with_a_note() {
    let o = run(&[
        "diff",
        "golden/baseline/policy.yaml",
        "--base",
        "golden/api-pod-creator/policy.yaml",
        "--format",
        "markdown",
        "--max-comment-chars",
        "6000",
        "--marker",
        "hub-a",
    ]);
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(md.len() <= 6000, "{}", md.len());
    assert!(md.starts_with("<!-- z2jh-policy diff: hub-a -->\n"));
    assert!(md.contains("✂️"), "{md}");
}

#[test]
fn private_keys_never_reach_the_report() {
    let o = run(&[
        "diff",
        "golden/https-manual/policy.yaml",
        "--base",
        "golden/restricted/policy.yaml",
        "-U",
        "50",
    ]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("manual"), "the change is shown");
    assert!(!text.contains("dummykeyfortestsonly"), "{text}");
}

#[test]
fn base_ref_reads_the_policy_and_its_parents_from_git() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let s = Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.org")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.org")
            .output()
            .unwrap();
        assert!(
            s.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&s.stderr)
        );
    };
    git(&["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    let site = std::fs::read_to_string("golden/_common/site.yaml").unwrap();
    std::fs::write(dir.path().join("policies/site.yaml"), site).unwrap();
    let child = "apiVersion: z2jh-policy/v1\nkind: HubPolicy\nmetadata: {name: hub, namespace: jhub}\nextends: policies/site.yaml\n";
    std::fs::write(dir.path().join("hub.yaml"), child).unwrap();
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "base"]);
    std::fs::write(
        dir.path().join("hub.yaml"),
        format!("{child}spec:\n  egress:\n    profile: internet\n"),
    )
    .unwrap();
    let o = bin()
        .args(["diff", "hub.yaml", "--base-ref", "HEAD", "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["before"], "HEAD:hub.yaml");
    assert!(
        r["controls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["control"] == "egress" && c["direction"] == "weakens")
    );
}

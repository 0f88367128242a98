//! `explain` listings and `compile --annotate`.
//! Regenerate with `UPDATE_GOLDEN=1 cargo test --test it explain::`.
#![allow(clippy::unwrap_used)]

use crate::common;
use common::binary::output as run;

use std::path::Path;

use common::*;
use serde_json::Value;
use z2jh_policy::explain;

const POLICY: &str = "examples/restricted-hub.yaml";

fn golden(name: &str, actual: &[u8]) -> Option<String> {
    check_file(
        &Path::new("golden/explain").join(name),
        &String::from_utf8_lossy(actual),
    )
}

#[test]
fn listings_match() {
    let mut failures = Vec::new();
    for (args, file) in [
        (vec!["explain", POLICY], "restricted-hub.txt"),
        (
            vec![
                "explain",
                POLICY,
                "singleuser.networkPolicy",
                "--format",
                "json",
            ],
            "restricted-hub-networkpolicy.json",
        ),
        (
            vec![
                "explain",
                POLICY,
                "NetworkPolicy/research-hub-deny-all-networkless",
            ],
            "restricted-hub-manifest.txt",
        ),
        (
            vec!["explain", "examples/nfs-per-user.yaml", "hub.extraConfig"],
            "nfs-per-user-extraconfig.txt",
        ),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        failures.extend(golden(file, &o.stdout));
    }
    let o = run(&["compile", POLICY, "--annotate", "-q"]);
    assert_eq!(o.status.code(), Some(0));
    failures.extend(golden("restricted-hub.annotated.yaml", &o.stdout));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_key_shows_its_policy_field_line_and_preset() {
    let o = run(&[
        "explain",
        POLICY,
        "singleuser.networkPolicy.egressAllowRules.privateIPs",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let e = &v["entries"].as_array().unwrap()[0];
    assert_eq!(v["entries"].as_array().unwrap().len(), 1);
    assert_eq!(e["control"], "egress");
    assert_eq!(e["policy_field"], "spec.egress.profile");
    assert_eq!(e["policy_value"], "http-https");
    assert_eq!(e["preset"], "restricted");
    assert!(e["line"].as_u64().unwrap() > 0);
    assert_eq!(e["setting"], "http-https");
}

#[test]
fn an_unknown_key_is_an_error_with_a_suggestion() {
    let o = run(&["explain", POLICY, "singleuser.networkPolicy.egres"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    if let Some(e) = golden("unknown-key.txt", &o.stderr) {
        panic!("{e}");
    }
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("did you mean `singleuser.networkPolicy.egress`?")
    );
}

/// Comments change nothing: every golden case's annotated values parse back
/// to exactly the values compiled without them.
#[test]
fn annotated_values_mean_the_same() {
    let mut checked = 0;
    for case in cases() {
        for v in VERSIONS {
            let Ok(c) = compile_case(&case, v) else {
                continue;
            };
            let annotated = explain::annotate::values_yaml(&c);
            let back = z2jh_policy::yaml::parse(&annotated)
                .unwrap_or_else(|e| panic!("{case} {v}: {e}\n{annotated}"));
            assert_eq!(back.value, c.rendered.values, "{case} {v}");
            // Every emitted value has its comment.
            let comments = annotated
                .lines()
                .filter(|l| l.trim_start().starts_with("# spec."))
                .count();
            let wanted = explain::entries(&c)
                .iter()
                .filter(|e| e.kind == "value")
                .count();
            assert!(
                comments > 0 && comments <= wanted,
                "{case} {v}: {comments} of {wanted}"
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} cases");
}

/// The full listing ends with the policy's exceptions, the parent's first;
/// JSON has them with the days left; an expired one is explained, not refused.
#[test]
fn exceptions_are_listed_with_days_left() {
    let policy = "golden/exception-profile/policy.yaml";
    let o = run(&["explain", policy, "--today", "2026-12-01"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    let tail = &text[text.find("\nexception: ").unwrap() + 1..];
    assert_eq!(
        tail,
        "exception: read-only-root for profile `legacy`\n  allow:     writable\n  reason:    the legacy profile writes into its image\n  owner:     research-computing\n  expires:   2027-03-31 (120 days left)\n\n\
         exception: seccomp for profile `gpu`\n  allow:     unset\n  reason:    the GPU profile's profiler needs perf_event_open, which RuntimeDefault blocks\n  owner:     research-computing\n  expires:   2027-02-28 (89 days left)\n\n"
    );
    let o = run(&[
        "explain",
        policy,
        "--today",
        "2027-03-01",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ex = v["exceptions"].as_array().unwrap();
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[1]["control"], "seccomp");
    assert_eq!(ex[1]["profile"], "gpu");
    assert_eq!(ex[1]["allow"], "unset");
    assert_eq!(ex[1]["daysLeft"], -1);
    assert_eq!(ex[0]["daysLeft"], 30);
    // `compile` refuses the same policy that day.
    let o = run(&["compile", policy, "--today", "2027-03-01"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("expired on 2027-02-28 (1 day ago)"));
}

/// `explain KEY` shows an exception beside the values of its control.
#[test]
fn an_exception_is_a_trade_off_of_its_controls_values() {
    let o = run(&[
        "explain",
        "golden/exception-hub-wide/policy.yaml",
        "hub.config.KubeSpawner.container_security_context",
        "--today",
        "2026-12-01",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("  trade-off: exception: `privilege-escalation` may be as weak as `allowed` for the whole hub until 2026-12-20 (19 days left)"),
        "{text}"
    );
}

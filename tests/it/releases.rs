//! Every embedded chart release: the data matches the committed files, every
//! golden case compiles (or fails, for `error-*` cases), validates and reads
//! back for every release, and the commands work from the embedded data alone.
#![allow(clippy::unwrap_used)]

use crate::common;
use common::binary::output as run;

use std::process::Output;

use common::*;
use sha2::{Digest, Sha256};
use z2jh_policy::chart::releases;
use z2jh_policy::chart::version::Version;
use z2jh_policy::parse::Input;
use z2jh_policy::validate::chart_values::{ValuesFile, merged, validate_against_chart};

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

#[test]
fn embedded_data_matches_the_committed_files() {
    let index = std::fs::read_to_string("chart-data/index.json").unwrap();
    assert_eq!(
        releases::INDEX,
        index,
        "index.json differs from the embedded index"
    );
    let mut on_disk: Vec<String> = std::fs::read_dir("chart-data/blobs")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let embedded: Vec<String> = releases::blobs()
        .iter()
        .map(|(n, _)| format!("{n}.json"))
        .collect();
    assert_eq!(embedded, on_disk, "blob files and embedded blobs differ");
    for (name, data) in releases::blobs() {
        let file = std::fs::read_to_string(format!("chart-data/blobs/{name}.json")).unwrap();
        assert_eq!(*data, file, "{name}: embedded bytes differ from the file");
        let hash = format!("{:x}", Sha256::digest(data.as_bytes()));
        assert_eq!(&hash[..16], *name, "{name}: named for other content");
        let v: serde_json::Value = serde_json::from_str(data).unwrap();
        assert!(v.is_object(), "{name} holds a mapping");
        assert!(
            !data.contains("\"description\":\""),
            "{name}: prose descriptions are left out"
        );
    }
    // Every blob is used by some release.
    for (name, _) in releases::blobs() {
        assert!(
            releases::all().iter().any(|r| {
                let (s, d) = r.blob_names();
                s == *name || d == *name
            }),
            "{name} is used by no release"
        );
    }
}

#[test]
fn every_release_from_3_0_0_to_the_latest_is_known() {
    let versions: Vec<&str> = releases::all().iter().map(|r| r.version.as_str()).collect();
    let expected = [
        "3.0.0", "3.0.1", "3.0.2", "3.0.3", "3.1.0", "3.2.0", "3.2.1", "3.3.0", "3.3.1", "3.3.2",
        "3.3.3", "3.3.4", "3.3.5", "3.3.6", "3.3.7", "3.3.8", "4.0.0", "4.1.0", "4.2.0", "4.3.0",
        "4.3.1", "4.3.2", "4.3.3", "4.3.4", "4.3.5", "4.4.0",
    ];
    assert_eq!(versions[..expected.len()], expected);
    for v in &versions {
        let c = chart(v);
        assert_eq!(&c.version, v);
        assert!(c.schema["properties"]["singleuser"].is_object(), "{v}");
        assert_eq!(
            c.defaults["hub"]["image"]["tag"], *v,
            "{v}: image tag is the release"
        );
        c.validator().unwrap_or_else(|e| panic!("{v}: {e}"));
    }
}

/// The `minimumChart` a golden case states, if any.
fn minimum_chart(case: &str) -> Option<Version> {
    let loaded = z2jh_policy::parse::load(&Input::File(policy_path(case))).ok()?;
    Version::parse(loaded.policy.minimum_chart.as_deref()?)
}

/// The matrix: every golden case for every release. Error cases must fail,
/// and so must a case on a release older than its `minimumChart`; the
/// others compile, and their values pass that release's schema merged over
/// its defaults. Warnings about keys a release lacks name the release.
#[test]
fn every_case_compiles_and_validates_for_every_release() {
    let mut failures = Vec::new();
    let mut compiled = 0;
    for r in releases::all() {
        let chart = chart(&r.version);
        for case in cases() {
            let below_minimum = minimum_chart(&case)
                .zip(Version::parse(&r.version))
                .is_some_and(|(min, have)| have < min);
            match compile_case(&case, &r.version) {
                Ok(_) if below_minimum => {
                    failures.push(format!(
                        "{case} on {}: compiled below its `minimumChart`",
                        r.version
                    ));
                }
                Err(d) if below_minimum => {
                    assert!(
                        d.iter()
                            .any(|d| d.is_error() && d.message.contains("minimumChart")),
                        "{case} on {}: {}",
                        r.version,
                        render_diags(&d)
                    );
                }
                Ok(c) if expects_error(&case, &r.version) => {
                    failures.push(format!("{case} on {}: compiled, but must fail", r.version));
                    let _ = c;
                }
                Ok(c) => {
                    compiled += 1;
                    let text = z2jh_policy::yaml::to_string(&c.rendered.values);
                    let file = ValuesFile::from_text("values.yaml", text).unwrap();
                    let errors = validate_against_chart(&chart, std::slice::from_ref(&file));
                    if !errors.is_empty() {
                        failures.push(format!(
                            "{case} on {}:\n{}",
                            r.version,
                            render_diags(&errors)
                        ));
                    }
                    failures.extend(read_back_mismatches(&case, &r.version, &c, &chart, file));
                }
                Err(d) if expects_error(&case, &r.version) => {
                    assert!(d.iter().any(|d| d.is_error()), "{case}");
                }
                Err(d) => failures.push(format!(
                    "{case} on {}: failed to compile:\n{}",
                    r.version,
                    render_diags(&d)
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        compiled >= releases::all().len() * 30,
        "{compiled} compilations"
    );
}

/// Every control reads back, from the values merged over the release's
/// defaults, the setting it compiled (as `tests/it/golden.rs` checks for the
/// golden versions; PID limits and Pod Security labels live outside values).
fn read_back_mismatches(
    case: &str,
    version: &str,
    c: &z2jh_policy::compile::Compiled,
    chart: &z2jh_policy::chart::ChartDir,
    file: ValuesFile,
) -> Vec<String> {
    use z2jh_policy::chart::ChartLine;
    use z2jh_policy::controls::{ALL, ReadBack, ValuesView};
    let values = merged(&chart.defaults, &[file]);
    let manifests = read_back_manifests(c);
    let mut view = ValuesView {
        values: &values,
        defaults: &chart.defaults,
        manifests: Some(&manifests),
        chart: ChartLine::of(version),
        more: z2jh_policy::controls::ViewMore::new(&[], Some(version)),
    };
    // The policy's own allow rules are its stated exceptions.
    view.more.sanctioned_egress = c
        .rendered
        .values
        .pointer("/singleuser/networkPolicy/egress")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default()
        .into();
    let mut out = Vec::new();
    for control in ALL {
        let want = control.selected(&c.loaded.policy);
        match control.read_back(&view) {
            ReadBack::Setting(got) if got.is(want.setting) => {}
            ReadBack::Setting(got)
                if common::read_back_may_differ(
                    control.def().id,
                    want.setting,
                    got.setting,
                    version,
                    &c.loaded.policy,
                ) => {}
            ReadBack::CannotVerify { .. } if control.def().id == "pid-limit" => {}
            ReadBack::CannotVerify { .. }
                if control.def().id == "pod-security-admission"
                    && manifests.iter().all(|m| m["kind"] != "Namespace") => {}
            other => out.push(format!(
                "{case} on {version}: {} compiled `{}` but reads back {other:?}",
                control.def().id,
                control.def().setting(&want).name
            )),
        }
    }
    out
}

#[test]
fn keys_a_release_lacks_are_dropped_with_a_warning_naming_the_nearest_release() {
    let compile = |v: &str| {
        z2jh_policy::compile::compile(
            &Input::File("examples/restricted-hub.yaml".into()),
            &z2jh_policy::compile::Options {
                chart_version: Some(v.into()),
                ..Default::default()
            },
        )
        .unwrap()
    };
    let placeholder = |c: &z2jh_policy::compile::Compiled| {
        c.rendered.values["scheduling"]["userPlaceholder"]
            .get("extraPodSpec")
            .is_some()
    };
    for v in ["3.0.0", "3.3.8", "4.0.0"] {
        let c = compile(v);
        assert!(!placeholder(&c), "{v} has no userPlaceholder.extraPodSpec");
        let w = render_diags(c.diagnostics());
        assert!(
            w.contains(&format!(
                "warning: chart {v} has no `scheduling.userPlaceholder.extraPodSpec`"
            )) && w.contains("4.1.0 is the nearest release that accepts it"),
            "{v}: {w}"
        );
    }
    for v in ["4.1.0", "4.4.0"] {
        let c = compile(v);
        assert!(placeholder(&c), "{v} accepts userPlaceholder.extraPodSpec");
        assert!(!render_diags(c.diagnostics()).contains("has no `"));
    }
}

#[test]
fn an_unknown_release_compiles_for_the_nearest_known_one_with_a_warning() {
    let o = run(&[
        "compile",
        "examples/restricted-hub.yaml",
        "--chart-version",
        "4.3.9",
        "-o",
        "-",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("chart 4.3.9 is not a release this version knows; output follows 4.3.5"),
        "{t}"
    );
    assert!(t.contains("known releases: 3.0.0-3.0.3"));
}

#[test]
fn validate_needs_no_chart_folder_and_a_folder_still_wins() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run(&[
        "compile",
        "examples/restricted-hub.yaml",
        "--chart-version",
        "4.0.0",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let values = out.join("values.yaml");
    let values = values.to_str().unwrap();
    let o = run(&["validate", "--chart-version", "4.0.0", values]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("valid for chart jupyterhub 4.0.0"));
    // The 4.4.0 output is refused by 4.0.0: it has a key 4.0.0 lacks.
    let newer = dir.path().join("newer");
    run(&[
        "compile",
        "examples/restricted-hub.yaml",
        "-q",
        "-o",
        newer.to_str().unwrap(),
    ]);
    let newer = newer.join("values.yaml");
    let o = run(&[
        "validate",
        "--chart-version",
        "4.0.0",
        newer.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("unknown key `extraPodSpec` in `scheduling.userPlaceholder`"));
    // --chart wins over --chart-version.
    let folder = chart_dir("4.4.0");
    let o = run(&[
        "validate",
        "--chart",
        folder.to_str().unwrap(),
        "--chart-version",
        "4.0.0",
        newer.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // An unknown release is an input error that lists the known ones.
    let o = run(&["validate", "--chart-version", "4.9.9", values]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("no chart data for z2jh 4.9.9"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("3.3.0-3.3.8"));
    // Neither flag: clap says what is missing.
    let o = run(&["validate", values]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn version_lists_the_releases_compactly() {
    let o = run(&["--version"]);
    let t = text(&o);
    assert!(
        t.contains("(charts: 3.0.0-3.0.3, 3.1.0, 3.2.0-3.2.1, 3.3.0-3.3.8, 4.0.0, 4.1.0, 4.2.0, 4.3.0-4.3.5, 4.4.0"),
        "{t}"
    );
}

#[test]
fn audit_reports_advisories_of_the_installed_release() {
    let values = "golden/check/override/security.yaml";
    let json = |args: &[&str]| -> serde_json::Value {
        let o = run(args);
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)))
    };
    let ids = |r: &serde_json::Value| -> Vec<String> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["id"] == "Z2JH-chart-advisory")
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect()
    };
    let r = json(&[
        "audit",
        values,
        "--chart-version",
        "4.3.2",
        "--format",
        "json",
    ]);
    let found = ids(&r);
    assert!(
        found
            .iter()
            .any(|m| m.contains("GHSA-m68r-v472-jgq9") && m.contains("first fixed in 4.3.4")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|m| m.contains("GHSA-3vff-hjqv-m7h8") && m.contains("first fixed in 4.3.3"))
    );
    assert!(r["defaults"].as_str().unwrap().contains("4.3.2"));
    // 3.x has no release with the XSRF fix: the message says so.
    let r = json(&[
        "audit",
        values,
        "--chart-version",
        "3.3.8",
        "--format",
        "json",
    ]);
    assert!(
        ids(&r)
            .iter()
            .any(|m| m.contains("no release of its line fixes it; first fixed in 4.3.4"))
    );
    // The newest release has none.
    let latest = &releases::latest().version;
    let r = json(&[
        "audit",
        values,
        "--chart-version",
        latest,
        "--format",
        "json",
    ]);
    assert!(ids(&r).is_empty(), "{:?}", ids(&r));
    // In SARIF each advisory result points at its own rule.
    let sarif = json(&[
        "audit",
        values,
        "--chart-version",
        "4.3.2",
        "--format",
        "sarif",
    ]);
    let run = &sarif["runs"][0];
    let results: Vec<&serde_json::Value> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "Z2JH-chart-advisory")
        .collect();
    assert!(!results.is_empty());
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            run["tool"]["driver"]["rules"][i]["id"],
            "Z2JH-chart-advisory"
        );
    }
    // A chart folder's Chart.yaml names the release too.
    let folder = chart_dir("3.3.8");
    let r = json(&[
        "audit",
        values,
        "--chart",
        folder.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(!ids(&r).is_empty());
}

#[test]
fn a_policy_minimum_release_is_enforced_by_compile_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    let base = std::fs::read_to_string("golden/check/override/policy.yaml").unwrap();
    assert!(
        base.contains("extends: restricted\n"),
        "a preset, so the copy resolves it"
    );
    let with_min = base.replacen("chart: ", "minimumChart: 4.3.4\nchart: ", 1);
    std::fs::write(&policy, &with_min).unwrap();
    let p = policy.to_str().unwrap();
    let o = run(&["compile", p, "--chart-version", "4.3.2", "-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("chart 4.3.2 is older than `minimumChart: 4.3.4`"),
        "{}",
        text(&o)
    );
    let o = run(&["compile", p, "--chart-version", "4.3.4", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(&[
        "check",
        p,
        "--values",
        "golden/check/override/security.yaml",
        "--chart-version",
        "4.3.2",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "Z2JH-chart-minimum"),
        "{r}"
    );
}

#[test]
fn a_gateway_needs_a_release_whose_chart_makes_the_http_route() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("gateway.yaml");
    std::fs::write(
        &p,
        "apiVersion: z2jh-policy/v1\nkind: HubPolicy\nmetadata: {name: hub, namespace: jhub}\nextends: restricted\n\
         chart: 4.4.0\nkubernetesVersion: \"1.30\"\nspec:\n  https:\n    mode: gateway\n    hosts: [hub.example.org]\n    \
         gateway: {name: public, sectionName: https}\n  access:\n    users: [alice]\n",
    )
    .unwrap();
    let p = p.to_str().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    for (old, why) in [
        (
            "3.3.8",
            "chart 3.3.8 has no `httpRoute`: the chart makes no HTTPRoute before chart 4.3.0",
        ),
        (
            "4.2.0",
            "chart 4.2.0 has no `httpRoute`: the chart makes no HTTPRoute before chart 4.3.0",
        ),
        (
            "4.3.2",
            "chart 4.3.2 cannot attach its HTTPRoute to one listener: `httpRoute.gateway.sectionName` came with chart 4.3.3",
        ),
    ] {
        let o = run(&["compile", p, "--chart-version", old, "-q", "-o", out]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(why), "{}", text(&o));
        assert!(!std::path::Path::new(out).exists(), "nothing is written");
    }
    let o = run(&["compile", p, "--chart-version", "4.3.3", "-q", "-o", out]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let values = std::fs::read_to_string(dir.path().join("out/values.yaml")).unwrap();
    assert!(values.contains("httpRoute:"), "{values}");
}

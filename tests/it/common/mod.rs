//! Shared helpers for the integration tests.
#![allow(dead_code)]
// Test helpers, like tests, fail loudly.
#![allow(clippy::unwrap_used)]

pub mod binary;
pub mod cilium;
pub mod diff_cli;

use std::path::{Path, PathBuf};

use serde_json::Value;
use z2jh_policy::chart::ChartDir;
use z2jh_policy::compile::{Compiled, Options, compile};
use z2jh_policy::diag::{Diagnostic, render_human};
use z2jh_policy::parse::Input;

/// Chart versions whose output is committed as golden files; every other
/// embedded release is compiled and validated by `tests/it/releases.rs`.
pub const VERSIONS: &[&str] = &["4.4.0", "3.3.8"];

/// Chart folders as `helm pull --untar` leaves them (Chart.yaml, values.yaml,
/// values.schema.json), written from the embedded data for the golden
/// versions, for the commands that take `--chart DIR`.
pub fn chart_data() -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chart-data");
    for v in VERSIONS {
        chart_dir(v);
    }
    root
}

/// The chart folder of one embedded release (written on first use).
pub fn chart_dir(version: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("chart-data")
        .join(version);
    let chart = chart(version);
    std::fs::create_dir_all(&dir).unwrap();
    let files = [
        (
            "Chart.yaml",
            format!("apiVersion: v2\nname: jupyterhub\nversion: {version}\n"),
        ),
        ("values.yaml", z2jh_policy::yaml::to_string(&chart.defaults)),
        (
            "values.schema.json",
            serde_json::to_string(&chart.schema).unwrap(),
        ),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).is_ok_and(|t| t == text) {
            continue;
        }
        // Test binaries run in parallel: write aside, then rename into place.
        let tmp = dir.join(format!(".{name}.{}", std::process::id()));
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    dir
}

/// The embedded data of a release.
pub fn chart(version: &str) -> ChartDir {
    ChartDir::release(version).unwrap_or_else(|d| panic!("{version}: {}", d.message))
}

/// Golden case directories (`golden/<case>/policy.yaml`), sorted.
pub fn cases() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("golden")
        .expect("golden/ exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("policy.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('_'))
        .collect();
    v.sort();
    v
}

/// Whether compiling `case` for chart `version` must fail: an `error-*`
/// case, or a release older than the case's own `minimumChart` (which
/// compile refuses).
pub fn expects_error(case: &str, version: &str) -> bool {
    use z2jh_policy::chart::version::Version;
    if case.starts_with("error-") {
        return true;
    }
    let text = std::fs::read_to_string(policy_path(case)).unwrap_or_default();
    let minimum = z2jh_policy::yaml::parse(&text).ok().and_then(|d| {
        d.value
            .get("minimumChart")?
            .as_str()
            .and_then(Version::parse)
    });
    match (minimum, Version::parse(version)) {
        (Some(min), Some(v)) => v < min,
        _ => false,
    }
}

pub fn policy_path(case: &str) -> PathBuf {
    PathBuf::from(format!("golden/{case}/policy.yaml"))
}

pub fn compile_case(case: &str, version: &str) -> Result<Compiled, Vec<Diagnostic>> {
    compile(
        &Input::File(policy_path(case)),
        &Options {
            chart_version: Some(version.into()),
            today: Some(golden_today()),
            ..Default::default()
        },
    )
}

/// The day golden cases are compiled on: their exceptions' expiry dates are
/// written against it, so no golden file depends on the clock.
pub fn golden_today() -> z2jh_policy::exceptions::Date {
    z2jh_policy::exceptions::Date::parse(GOLDEN_TODAY).unwrap()
}

pub const GOLDEN_TODAY: &str = "2026-12-01";
/// [`GOLDEN_TODAY`] at 00:00 UTC, for `SOURCE_DATE_EPOCH`.
pub const GOLDEN_EPOCH: &str = "1796083200";

pub fn render_diags(diags: &[Diagnostic]) -> String {
    diags.iter().map(|d| render_human(d) + "\n").collect()
}

/// Compares `actual` with the file, or rewrites it when UPDATE_GOLDEN=1
/// (never in CI). Returns a description of the mismatch.
pub fn check_file(path: &Path, actual: &str) -> Option<String> {
    let update =
        std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") && std::env::var_os("CI").is_none();
    if update {
        std::fs::write(path, actual).unwrap();
        return None;
    }
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => None,
        Ok(expected) => Some(format!(
            "{} differs from the output (`-` committed, `+` now):\n{}",
            path.display(),
            unified_diff(&expected, actual, &path.display().to_string())
        )),
        Err(_) => Some(format!(
            "{}: missing (run `UPDATE_GOLDEN=1 cargo test --test it`)",
            path.display()
        )),
    }
}

/// A unified diff of the committed text and the output, whole (three lines
/// of context around each change).
pub fn unified_diff(expected: &str, actual: &str, name: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header(name, &format!("{name} (now)"))
        .to_string()
}

/// Manifest objects of a compiled policy.
pub fn manifests(c: &Compiled) -> Vec<Value> {
    c.rendered.manifest_objects()
}

/// What reading a compiled policy back sees: its manifests, plus the
/// objects it expects the cluster to hold — a Gateway whose listener
/// terminates TLS where the values attach an HTTPRoute to one.
pub fn read_back_manifests(c: &Compiled) -> Vec<Value> {
    let mut out = manifests(c);
    if let Some(gw) = c.rendered.values.pointer("/httpRoute/gateway") {
        let section = gw["sectionName"].as_str().unwrap_or("https");
        out.push(serde_json::json!({
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": gw["name"], "namespace": gw["namespace"]},
            "spec": {"listeners": [{"name": section, "protocol": "HTTPS", "port": 443}]},
        }));
    }
    out
}

/// Equal as Helm and Python hold values: numbers by their value (`2.0`
/// and `2` are one number).
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

/// Read-backs of compiled output that may differ from the compiled setting,
/// and why: what a policy allows (literal credentials, broad roles) it does
/// not write; and the authenticator is the site's, so the chart's default
/// `dummy` admits any name where the policy lists nobody it reads (`open`;
/// groups alone on JupyterHub 4), as the compiler warns.
#[allow(dead_code)]
pub fn read_back_may_differ(
    id: &str,
    want: &z2jh_policy::controls::Setting,
    got: &z2jh_policy::controls::Setting,
    version: &str,
    policy: &z2jh_policy::policy::Policy,
) -> bool {
    match id {
        // What a policy allows but does not write: literal credentials,
        // broad roles, and profiles (the output has none).
        "secrets" | "hub-roles" | "profile-images" | "profile-weakening" => got.rank < want.rank,
        "access" => {
            got.name == "anyone"
                && (want.name == "open"
                    || (version.starts_with("3.") && policy.spec.access.users.is_empty()))
        }
        _ => false,
    }
}

//! Shared helpers for the integration tests.
#![allow(dead_code)]

pub mod binary;
pub mod diff_cli;

use std::path::{Path, PathBuf};

use serde_json::Value;
use z2jh_policy::chart::ChartDir;
use z2jh_policy::compile::{Compiled, Options, compile};
use z2jh_policy::diag::{Diagnostic, render_human};
use z2jh_policy::parse::Input;

/// Chart versions every golden case is compiled for.
pub const VERSIONS: &[&str] = &["4.4.0", "3.3.8"];

/// The chart data (defaults and schemas) shipped beside the checkout.
pub fn chart_data() -> PathBuf {
    std::env::var_os("Z2JH_CHART_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/z2jh"))
}

pub fn chart(version: &str) -> ChartDir {
    let dir = chart_data().join(version);
    ChartDir::load(&dir).unwrap_or_else(|d| {
        panic!(
            "chart data for {version} missing at {}: {}",
            dir.display(),
            d.message
        )
    })
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

pub fn policy_path(case: &str) -> PathBuf {
    PathBuf::from(format!("golden/{case}/policy.yaml"))
}

pub fn compile_case(case: &str, version: &str) -> Result<Compiled, Vec<Diagnostic>> {
    compile(
        &Input::File(policy_path(case)),
        &Options {
            chart_version: Some(version.into()),
        },
    )
}

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
        Ok(expected) => {
            let first = expected
                .lines()
                .zip(actual.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(expected.lines().count().min(actual.lines().count()));
            Some(format!(
                "{}: differs from line {} (expected `{}`, got `{}`)",
                path.display(),
                first + 1,
                expected.lines().nth(first).unwrap_or("<end>"),
                actual.lines().nth(first).unwrap_or("<end>")
            ))
        }
        Err(_) => Some(format!(
            "{}: missing (run `UPDATE_GOLDEN=1 cargo test --test golden`)",
            path.display()
        )),
    }
}

/// Manifest objects of a compiled policy.
pub fn manifests(c: &Compiled) -> Vec<Value> {
    c.rendered.manifest_objects()
}

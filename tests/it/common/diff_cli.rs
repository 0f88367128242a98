//! Running `z2jh-policy diff` from the tests (colour off).

use serde_json::Value;

pub use super::binary::{command as bin, output as run, stderr, stdout};

pub fn updating() -> bool {
    std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") && std::env::var_os("CI").is_none()
}

pub fn weakened(r: &Value) -> Vec<String> {
    r["controls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["direction"] == "weakens")
        .map(|c| c["control"].as_str().unwrap().to_string())
        .collect()
}

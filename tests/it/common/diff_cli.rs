//! Running `z2jh-policy diff` from the tests (colour off).

use std::process::{Command, Output};

use serde_json::Value;

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_z2jh-policy"));
    c.env("NO_COLOR", "1");
    c
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

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

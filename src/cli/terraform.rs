//! `z2jh-policy terraform`: the program of a Terraform `external` data source.
//!
//! Input: the query, one JSON object, on stdin. Output: the result object on
//! stdout. On failure: one line per error on stderr (`file:line:column:
//! message` when the error has a place, else `z2jh-policy terraform:
//! message`), nothing on stdout, exit status 2.

use std::io::{IsTerminal, Read, Write};

use super::exit;
use crate::diag::{Diagnostic, ErrorFormat, render_json};
use crate::terraform::{self, query};
use crate::yaml::MAX_INPUT_BYTES;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Query keys (strings; \"\" or null = not given): policy | policy_yaml (exactly one), \
    chart_version, base_values, chart_dir.\n\
    Result keys (all strings): values_yaml, manifests_yaml, namespace_yaml, runtime_yaml, rbac_yaml, network_yaml, \
    storage_yaml, quota_yaml, admission_yaml, warnings and notes (JSON-encoded lists), chart_version, sha256.\n\
    On error: nothing on stdout, one line per error on stderr, exit status 2. See docs/terraform.md."
)]
pub struct Args {}

const PREFIX: &str = "z2jh-policy terraform";

pub fn run(_a: &Args, fmt: ErrorFormat) -> u8 {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return fail(
            &[Diagnostic::error(
                "expects the query as one JSON object on stdin, as Terraform's `external` data source sends it; stdin is a terminal",
            )],
            fmt,
        );
    }
    let mut bytes = Vec::new();
    // One byte over the limit is enough for the parser to refuse it.
    if let Err(e) = stdin
        .lock()
        .take(MAX_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
    {
        return fail(&[Diagnostic::error(format!("cannot read stdin: {e}"))], fmt);
    }
    let q = match query::parse(&bytes) {
        Ok(q) => q,
        Err(msg) => return fail(&[Diagnostic::error(msg)], fmt),
    };
    let out = match terraform::run(&q) {
        Ok(o) => o,
        Err(errors) => return fail(&errors, fmt),
    };
    let text = match serde_json::to_string(&out) {
        Ok(t) => t + "\n",
        Err(e) => return fail(&[Diagnostic::error(e.to_string())], fmt),
    };
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
        .is_err()
    {
        return exit::ERROR;
    }
    exit::OK
}

/// Prints the errors, one line each, and returns the error status.
fn fail(errors: &[Diagnostic], fmt: ErrorFormat) -> u8 {
    let mut out = String::new();
    for d in errors {
        let line = match fmt {
            ErrorFormat::Json => render_json(d),
            ErrorFormat::Human if d.location.is_some() => terraform::one_line(d),
            ErrorFormat::Human => format!("{PREFIX}: {}", terraform::one_line(d)),
        };
        out.push_str(&line);
        out.push('\n');
    }
    eprint!("{out}");
    exit::ERROR
}

//! The command line: argument definitions and dispatch. One module per
//! subcommand; each returns the process exit code.

mod audit;
mod check;
mod compile;
mod completions;
mod diff;
mod explain;
mod init;
mod man;
mod schema;
mod terraform;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::diag::{Diagnostic, ErrorFormat, Severity, render};

/// Exit codes shared by every subcommand.
pub mod exit {
    /// Success; for checks: nothing found.
    pub const OK: u8 = 0;
    /// A check found something (differences, violations, invalid values).
    pub const FOUND: u8 = 1;
    /// Bad input or an I/O failure; nothing was written.
    pub const ERROR: u8 = 2;
}

/// `0.1.0 (charts: 3.0.0-3.0.3, …, 4.4.0)`: the embedded releases.
pub fn version_text() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        format!(
            "{} (charts: {})",
            env!("CARGO_PKG_VERSION"),
            crate::chart::releases::compact_list()
        )
    })
}

#[derive(Debug, Parser)]
#[command(
    name = "z2jh-policy",
    version = version_text(),
    about = "Compile a JupyterHub-on-Kubernetes security policy into z2jh Helm values and Kubernetes manifests",
    after_help = "Exit status: 0 success, 1 a check found differences or violations, 2 bad input or I/O error."
)]
pub struct Cli {
    /// How to print errors, warnings and notes.
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormat::Human, env = "Z2JH_POLICY_ERROR_FORMAT")]
    pub error_format: ErrorFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile a policy, or a batch of policies, into values.yaml and manifests.
    Compile(compile::Args),
    /// Check values files against a chart's values.schema.json, merged like Helm.
    Validate(validate::Args),
    /// Print the JSON Schema of the policy language.
    Schema(schema::Args),
    /// Compare committed output with the policy (drift), or two policies; classify security changes.
    Diff(diff::Args),
    /// Run as a Terraform `external` data source: JSON query on stdin, JSON result on stdout.
    Terraform(terraform::Args),
    /// Show the control, policy field and line behind every emitted value and manifest.
    Explain(explain::Args),
    /// Check that values files, merged like Helm, still meet a policy.
    Check(check::Args),
    /// Grade existing z2jh values against the `restricted` preset (or --policy).
    Audit(audit::Args),
    /// Propose a policy that reproduces the security settings of existing values.
    Init(init::Args),
    /// Print a shell completion script.
    Completions(completions::Args),
    /// Print the manual page (roff), or write every page into a directory.
    Man(man::Args),
}

pub fn run(cli: Cli) -> ExitCode {
    let fmt = cli.error_format;
    let code = match cli.command {
        Command::Compile(a) => compile::run(&a, fmt),
        Command::Validate(a) => validate::run(&a, fmt),
        Command::Schema(a) => schema::run(&a, fmt),
        Command::Diff(a) => diff::run(&a, fmt),
        Command::Terraform(a) => terraform::run(&a, fmt),
        Command::Explain(a) => explain::run(&a, fmt),
        Command::Check(a) => check::run(&a, fmt),
        Command::Audit(a) => audit::run(&a, fmt),
        Command::Init(a) => init::run(&a, fmt),
        Command::Completions(a) => completions::run(&a, fmt),
        Command::Man(a) => man::run(&a, fmt),
    };
    ExitCode::from(code)
}

/// `--today`: the day exceptions are judged on.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TodayArg {
    /// Judge exceptions' expiry on this day (YYYY-MM-DD, UTC) instead of today, for reproducible
    /// output; wins over SOURCE_DATE_EPOCH, which wins over the system clock.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_today)]
    pub today: Option<crate::exceptions::Date>,
}

/// The day of `--today`, `SOURCE_DATE_EPOCH` or the clock.
pub fn today(a: &TodayArg) -> Result<crate::exceptions::Date, Vec<Diagnostic>> {
    crate::compile::resolve_today(a.today).map_err(|d| vec![d])
}

fn parse_today(s: &str) -> Result<crate::exceptions::Date, String> {
    crate::exceptions::Date::parse(s)
}

/// Prints diagnostics to stderr, errors first, and a summary line for people.
pub fn report(diags: &[Diagnostic], fmt: ErrorFormat) {
    let mut sorted: Vec<&Diagnostic> = diags.iter().collect();
    sorted.sort_by_key(|d| d.severity);
    let mut out = String::new();
    for d in &sorted {
        out.push_str(&render(d, fmt));
        if fmt == ErrorFormat::Human {
            out.push('\n');
        }
    }
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diags
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    if fmt == ErrorFormat::Human && (errors > 0 || warnings > 0) {
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        out.push_str(&format!(
            "{}, {}\n",
            plural(errors, "error"),
            plural(warnings, "warning")
        ));
    }
    eprint!("{out}");
}

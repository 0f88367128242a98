//! `z2jh-policy compile`.

use std::io::Write;
use std::path::PathBuf;

use super::{exit, report};
use crate::compile::{Options, compile};
use crate::diag::{Diagnostic, ErrorFormat, Severity};
use crate::emit;
use crate::parse::Input;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file.
    pub policy: PathBuf,
    /// Output directory (writes values.yaml and manifests/*.yaml), or `-` for one YAML stream on stdout.
    #[arg(short, long, default_value = "-")]
    pub output: String,
    /// Target chart version, overriding the policy's `chart:`.
    #[arg(long)]
    pub chart_version: Option<String>,
    /// Treat warnings as errors: nothing is written if there is any.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Overwrite files in the output directory that z2jh-policy did not generate.
    #[arg(long)]
    pub force: bool,
    /// Print errors only (no warnings or notes).
    #[arg(short, long)]
    pub quiet: bool,
    /// Write each value's policy field, line and control as a comment above it in values.yaml.
    #[arg(long)]
    pub annotate: bool,
}

pub fn run(a: &Args, fmt: ErrorFormat) -> u8 {
    let opts = Options {
        chart_version: a.chart_version.clone(),
    };
    let mut compiled = match compile(&Input::File(a.policy.clone()), &opts) {
        Ok(c) => c,
        Err(diags) => {
            report(&diags, fmt);
            return exit::ERROR;
        }
    };
    let diags: Vec<Diagnostic> = compiled
        .diagnostics()
        .iter()
        .filter(|d| !a.quiet || d.severity == Severity::Error)
        .cloned()
        .map(|mut d| {
            if a.deny_warnings && d.severity == Severity::Warning {
                d.severity = Severity::Error;
            }
            d
        })
        .collect();
    if a.annotate {
        let body = crate::explain::annotate::values_yaml(&compiled);
        if let Some(f) = compiled
            .output
            .files
            .iter_mut()
            .find(|f| f.0 == "values.yaml")
        {
            f.1 = body;
        }
    }
    if a.deny_warnings && diags.iter().any(Diagnostic::is_error) {
        report(&diags, fmt);
        eprintln!("nothing written: --deny-warnings turns warnings into errors");
        return exit::ERROR;
    }
    if a.output == "-" {
        let text = emit::stream(&compiled.output);
        let mut stdout = std::io::stdout().lock();
        if stdout
            .write_all(text.as_bytes())
            .and_then(|_| stdout.flush())
            .is_err()
        {
            return exit::ERROR;
        }
    } else if let Err(e) = emit::write_dir(&PathBuf::from(&a.output), &compiled.output, a.force) {
        report(&diags, fmt);
        report(
            &[Diagnostic::error(format!(
                "cannot write `{}`: {}",
                e.path.display(),
                e.message
            ))],
            fmt,
        );
        return exit::ERROR;
    }
    report(&diags, fmt);
    exit::OK
}

//! `z2jh-policy compile`: one policy, or many in one run (batch mode).
//!
//! Input: policy files and directories of policy files. Output: for each
//! policy, `values.yaml` and `manifests/*.yaml` in a directory (`-o DIR`,
//! where `{name}` stands for the policy's `metadata.name`), or one YAML
//! stream on stdout. Batch runs are all or nothing: if any policy fails, or
//! two share a name, nothing is written.

use std::io::Write;
use std::path::PathBuf;

use super::{exit, report};
use crate::compile::Options;
use crate::compile::batch::{self, Request};
use crate::diag::{Diagnostic, ErrorFormat, Loc};
use crate::emit;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Batch mode: give several policy files or a directory (each *.yaml / *.yml file directly inside is a \
policy) and put `{name}` in --output, e.g. `-o out/{name}`; it is replaced by each policy's metadata.name. \
Two policies with the same name are an error, and nothing is written unless every policy compiles."
)]
pub struct Args {
    /// Policy files, or directories whose *.yaml / *.yml files are each a policy.
    #[arg(required = true, value_name = "POLICY")]
    pub policies: Vec<PathBuf>,
    /// Output directory (writes values.yaml and manifests/*.yaml), or `-` for one YAML stream on stdout.
    /// `{name}` is replaced by each policy's metadata.name.
    #[arg(short, long, default_value = "-")]
    pub output: String,
    /// Target chart version, overriding the policy's `chart:`.
    #[arg(long)]
    pub chart_version: Option<String>,
    #[command(flatten)]
    pub today: super::TodayArg,
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
    let req = Request {
        policies: a.policies.clone(),
        output_dir: (a.output != "-").then(|| a.output.clone()),
        options: Options {
            chart_version: a.chart_version.clone(),
            today: a.today.today,
            expired_is_warning: false,
        },
        deny_warnings: a.deny_warnings,
        quiet: a.quiet,
        annotate: a.annotate,
    };
    let batch = match batch::run(&req) {
        Ok(b) => b,
        Err(diags) => {
            report(&diags, fmt);
            return exit::ERROR;
        }
    };
    match &req.output_dir {
        None => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(batch.stream().as_bytes())
                .and_then(|_| stdout.flush())
                .is_err()
            {
                return exit::ERROR;
            }
        }
        Some(dir) => {
            if let Err(e) = emit::write_dirs(&batch.jobs(dir), a.force) {
                let path = e.path.display().to_string();
                let mut all = batch.diagnostics;
                all.push(
                    Diagnostic::error(format!("cannot write `{path}`: {}", e.message))
                        .at(Loc::file(&path))
                        .help("nothing was written: every output file is as it was"),
                );
                report(&all, fmt);
                return exit::ERROR;
            }
        }
    }
    report(&batch.diagnostics, fmt);
    exit::OK
}

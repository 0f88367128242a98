//! `z2jh-policy check POLICY --values FILE...`: do the values Helm would
//! install (files merged in order) still meet the policy?

use std::path::PathBuf;

use super::{exit, report};
use crate::assess::inputs::{Sources, install, judge_for, release_mismatch};
use crate::assess::report::{Format, render};
use crate::assess::{Installed, Reference, Report, Scope, assess};
use crate::diag::{Diagnostic, ErrorFormat};
use crate::parse::{Input, load};

/// Inputs shared by `check` and `audit`.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Chart release installed (e.g. 4.3.2): its embedded defaults lie under
    /// the values, and its published advisories are reported. Without it the
    /// policy's `chart:` is taken (`check`, `audit --policy`).
    #[arg(long, value_name = "VERSION")]
    pub chart_version: Option<String>,
    #[command(flatten)]
    pub today: super::TodayArg,
    /// Chart folder (`helm pull --untar`) whose values.yaml holds the
    /// defaults; wins over --chart-version. Without either, and without a
    /// policy, the `baseline` preset's values stand in for the defaults.
    #[arg(long)]
    pub chart: Option<PathBuf>,
    /// Manifests applied beside the chart (e.g. the compiler's manifests/*.yaml),
    /// so namespace labels and quotas can be verified too.
    #[arg(long, num_args = 1..)]
    pub manifests: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Dotted path of the z2jh values inside an umbrella chart's values
    /// (e.g. `jupyterhub`, `binderhub.jupyterhub`).
    #[arg(long, value_name = "PATH")]
    pub values_key: Option<String>,
    /// SARIF: make file paths relative to this folder (default: the
    /// current directory), as code scanning expects.
    #[arg(long, value_name = "DIR")]
    pub sarif_root: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file.
    pub policy: PathBuf,
    /// Values files, merged in order like `helm -f a.yaml -f b.yaml`.
    #[arg(long, required = true, num_args = 1..)]
    pub values: Vec<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

impl Common {
    /// Where the chart and the manifests come from.
    pub fn sources(&self) -> Sources<'_> {
        Sources {
            chart_version: self.chart_version.as_deref(),
            chart: self.chart.as_deref(),
            manifests: &self.manifests,
        }
    }
}

/// Reads the values files and the install they describe, printing notes on
/// the files and the keys the release refuses as they are found.
pub fn installed(
    values: &[PathBuf],
    c: &Common,
    policy_chart: Option<&str>,
) -> Result<Installed, Vec<Diagnostic>> {
    read(values, c.values_key.as_deref(), &c.sources(), policy_chart)
}

/// Like [`installed`], for a command without the other `check` options.
pub fn read(
    values: &[PathBuf],
    values_key: Option<&str>,
    sources: &Sources,
    policy_chart: Option<&str>,
) -> Result<Installed, Vec<Diagnostic>> {
    let (files, notes) = crate::validate::chart_values::read_files(values, values_key, false)?;
    if !notes.is_empty() {
        report(&notes, ErrorFormat::Human);
    }
    let (inst, refused) = install(files, sources, policy_chart)?;
    if !refused.is_empty() {
        report(&refused, ErrorFormat::Human);
    }
    Ok(inst)
}

pub fn run(a: &Args, fmt: ErrorFormat) -> u8 {
    let result = load(&Input::File(a.policy.clone())).and_then(|mut loaded| {
        let inst = installed(&a.values, &a.common, Some(&loaded.policy.chart))?;
        // The install is judged as the release it runs; say when that is
        // not the release the policy was written for.
        if let Some(d) = release_mismatch(&loaded, &inst) {
            report(&[d], fmt);
        }
        judge_for(&mut loaded, &inst);
        let mut r = Reference::new(format!("policy `{}`", a.policy.display()), loaded)?;
        r.today = Some(super::today(&a.common.today)?);
        Ok(assess("check", &r, &inst, Scope::Controls))
    });
    finish(result, &a.common, fmt)
}

/// Prints an assessment (exit 0 when it holds, 1 with findings) or the
/// errors that stopped it (exit 2); shared by `check` and `audit`.
pub fn finish(result: Result<Report, Vec<Diagnostic>>, c: &Common, fmt: ErrorFormat) -> u8 {
    let format = c.format;
    match result {
        Ok(mut r) => {
            r.sarif_root = c.sarif_root.as_ref().map(|p| {
                std::fs::canonicalize(p)
                    .unwrap_or_else(|_| p.clone())
                    .display()
                    .to_string()
            });
            print!("{}", render(&r, format));
            if r.violations() == 0 {
                exit::OK
            } else {
                exit::FOUND
            }
        }
        Err(diags) => {
            report(&diags, fmt);
            exit::ERROR
        }
    }
}

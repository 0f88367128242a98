//! `z2jh-policy check POLICY --values FILE...`: do the values Helm would
//! install (files merged in order) still meet the policy?

use std::path::PathBuf;

use super::{exit, report};
use crate::assess::report::{Format, render};
use crate::assess::{Installed, Reference, Report, Scope, assess, read_manifests};
use crate::diag::{Diagnostic, ErrorFormat};
use crate::parse::{Input, load};

/// Inputs shared by `check` and `audit`.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Chart folder (`helm pull --untar`) whose values.yaml holds the defaults;
    /// without it the `baseline` preset's values stand in for them.
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

/// Reads the values files, chart defaults and manifests.
pub fn installed(values: &[PathBuf], c: &Common) -> Result<Installed, Vec<Diagnostic>> {
    let (files, notes) =
        crate::validate::chart_values::read_files(values, c.values_key.as_deref(), false)?;
    if !notes.is_empty() {
        report(&notes, crate::diag::ErrorFormat::Human);
    }
    let mut names = Vec::new();
    let mut starts = Vec::new();
    let manifests = if c.manifests.is_empty() {
        None
    } else {
        let mut all = Vec::new();
        for p in &c.manifests {
            let docs = read_manifests(p).map_err(|d| vec![d])?;
            let name = p.display().to_string();
            let lines = crate::assess::document_starts(p);
            for (i, _) in docs.iter().enumerate() {
                names.push(name.clone());
                starts.push((name.clone(), i, lines.get(i).copied().unwrap_or(1)));
            }
            all.extend(docs);
        }
        Some(all)
    };
    let mut inst = Installed::new(files, c.chart.as_deref(), manifests)?;
    inst.manifest_files = names;
    inst.manifest_starts = starts;
    Ok(inst)
}

pub fn run(a: &Args, fmt: ErrorFormat) -> u8 {
    let result = installed(&a.values, &a.common).and_then(|inst| {
        let loaded = load(&Input::File(a.policy.clone()))?;
        let r = Reference::new(format!("policy `{}`", a.policy.display()), loaded)?;
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

//! `z2jh-policy check POLICY --values FILE...`: do the values Helm would
//! install (files merged in order) still meet the policy?

use std::path::PathBuf;

use super::{exit, report};
use crate::assess::report::{Format, render};
use crate::assess::{Installed, Reference, Report, Scope, assess, read_manifests};
use crate::chart::ChartSource;
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

/// Reads the values files, chart defaults and manifests. The chart comes
/// from `--chart`, `--chart-version`, or else `policy_chart`.
pub fn installed(
    values: &[PathBuf],
    c: &Common,
    policy_chart: Option<&str>,
) -> Result<Installed, Vec<Diagnostic>> {
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
    // A policy may target a release this binary has no data for (it
    // compiles with a warning); its defaults then fall back like no chart.
    let from_policy = policy_chart.filter(|v| crate::chart::releases::find(v).is_some());
    let version = c.chart_version.as_deref().or(from_policy);
    let source = ChartSource::pick(c.chart.as_deref(), version);
    let mut inst = Installed::new(files, source.as_ref(), manifests)?;
    inst.manifest_files = names;
    inst.manifest_starts = starts;
    // What the release's schema refuses: `helm install` would refuse it
    // too, and the controls it was meant to set cannot be verified.
    if let Some(chart) = &inst.chart_data {
        let refused: Vec<Diagnostic> =
            crate::validate::chart_values::validate_against_chart(chart, &inst.files)
                .into_iter()
                .map(|mut d| {
                    d.severity = crate::diag::Severity::Warning;
                    d
                })
                .collect();
        if !refused.is_empty() {
            report(&refused, crate::diag::ErrorFormat::Human);
        }
    }
    Ok(inst)
}

pub fn run(a: &Args, fmt: ErrorFormat) -> u8 {
    let result = load(&Input::File(a.policy.clone())).and_then(|mut loaded| {
        let inst = installed(&a.values, &a.common, Some(&loaded.policy.chart))?;
        // The install is judged as the release it runs; say when that is
        // not the release the policy was written for.
        if let Some(v) = inst.chart_version.as_deref().filter(|v| *v != loaded.policy.chart) {
            report(
                &[Diagnostic::warning(format!(
                    "the policy is for chart {}, the values are judged as chart {v}",
                    loaded.policy.chart
                ))
                .help("set the policy's `chart:` to the installed release, or pass the installed release with `--chart-version`")],
                fmt,
            );
        }
        judge_for(&mut loaded, &inst);
        let mut r = Reference::new(format!("policy `{}`", a.policy.display()), loaded)?;
        r.today = Some(super::today(&a.common.today)?);
        Ok(assess("check", &r, &inst, Scope::Controls))
    });
    finish(result, &a.common, fmt)
}

/// Lowers the reference for the installed release, so its fixes use keys
/// that release has; a release below the policy's `minimumChart` is a
/// finding, so the reference then keeps the policy's own `chart:`.
pub fn judge_for(loaded: &mut crate::parse::Loaded, inst: &Installed) {
    use crate::chart::version::Version;
    let Some(v) = &inst.chart_version else { return };
    let below = loaded
        .policy
        .minimum_chart
        .as_deref()
        .and_then(Version::parse)
        .zip(Version::parse(v))
        .is_some_and(|(min, have)| have < min);
    if !below {
        loaded.policy.chart = v.clone();
    }
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

//! What `check`, `audit` and `init` read besides the values files: the
//! chart whose defaults lie under them, the manifests applied beside it,
//! and the release the reference policy is lowered for.

use std::path::{Path, PathBuf};

use super::{Installed, read_manifests};
use crate::chart::ChartSource;
use crate::diag::{Diagnostic, Severity};
use crate::parse::Loaded;
use crate::validate::chart_values::{ValuesFile, validate_against_chart};

/// Where the chart and the manifests come from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sources<'a> {
    /// Chart release installed; its embedded defaults lie under the values.
    pub chart_version: Option<&'a str>,
    /// Chart folder holding the defaults; wins over `chart_version`.
    pub chart: Option<&'a Path>,
    /// Manifests applied beside the chart.
    pub manifests: &'a [PathBuf],
}

/// The install the values files describe, and (as warnings) what the
/// release's schema refuses in them. The chart comes from `chart`,
/// `chart_version`, or else `policy_chart`.
pub fn install(
    files: Vec<ValuesFile>,
    s: &Sources,
    policy_chart: Option<&str>,
) -> Result<(Installed, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut names = Vec::new();
    let mut starts = Vec::new();
    let manifests = if s.manifests.is_empty() {
        None
    } else {
        let mut all = Vec::new();
        for p in s.manifests {
            let docs = read_manifests(p).map_err(|d| vec![d])?;
            let name = p.display().to_string();
            let lines = super::document_starts(p);
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
    let version = s.chart_version.or(from_policy);
    let source = ChartSource::pick(s.chart, version);
    let mut inst = Installed::new(files, source.as_ref(), manifests)?;
    inst.manifest_files = names;
    inst.manifest_starts = starts;
    // What the release's schema refuses: `helm install` would refuse it
    // too, and the controls it was meant to set cannot be verified.
    let refused = match &inst.chart_data {
        Some(chart) => validate_against_chart(chart, &inst.files)
            .into_iter()
            .map(|mut d| {
                d.severity = Severity::Warning;
                d
            })
            .collect(),
        None => Vec::new(),
    };
    Ok((inst, refused))
}

/// Lowers the reference for the installed release, so its fixes use keys
/// that release has; a release below the policy's `minimumChart` is a
/// finding, so the reference then keeps the policy's own `chart:`.
pub fn judge_for(loaded: &mut Loaded, inst: &Installed) {
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

/// A warning when the install is judged as another release than the one
/// the policy was written for.
pub fn release_mismatch(loaded: &Loaded, inst: &Installed) -> Option<Diagnostic> {
    let v = inst
        .chart_version
        .as_deref()
        .filter(|v| *v != loaded.policy.chart)?;
    Some(
        Diagnostic::warning(format!(
            "the policy is for chart {}, the values are judged as chart {v}",
            loaded.policy.chart
        ))
        .help("set the policy's `chart:` to the installed release, or pass the installed release with `--chart-version`"),
    )
}

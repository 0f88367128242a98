//! The target chart release: a warning for one without embedded data, an
//! error for one older than the policy's `minimumChart`.

use crate::chart::releases::{self, Release};
use crate::chart::version::Version;
use crate::diag::Diagnostic;
use crate::parse::Loaded;
use crate::plan::Plan;

/// Warns about a chart version without embedded data, and refuses one older
/// than the policy's `minimumChart`.
pub(super) fn check_target(loaded: &Loaded, plan: &mut Plan, release: Option<&'static Release>) {
    let policy = &loaded.policy;
    if releases::find(&policy.chart).is_none() {
        let follows = release.map_or(String::new(), |r| {
            format!("; output follows {}, the nearest known release", r.version)
        });
        let d = Diagnostic::warning(format!(
            "chart {} is not a release this version knows{follows}",
            policy.chart
        ))
        .help(format!("known releases: {}", releases::compact_list()));
        plan.diagnostics.push(d.at_opt(loaded.prov.loc("/chart")));
    }
    if let Some(min) = &policy.minimum_chart
        && let (Some(want), Some(have)) = (Version::parse(min), Version::parse(&policy.chart))
        && have < want
    {
        let d = Diagnostic::error(format!(
            "chart {} is older than `minimumChart: {min}`",
            policy.chart
        ))
        .help(format!(
            "target chart {min} or newer (`chart:` or `--chart-version`)"
        ));
        plan.diagnostics
            .push(d.at_opt(loaded.prov.loc("/minimumChart")));
    }
}

//! Findings about the chart release itself: published security advisories
//! fixed in a later release, and a release older than the policy's
//! `minimumChart`. The release comes from `--chart-version`, the chart
//! folder's `Chart.yaml`, or the policy's `chart:`.

use super::{Finding, Installed, Reference, SettingView, Severity, Status};
use crate::chart::advisories::{Applies, affecting};
use crate::chart::version::Version;

/// Pseudo-control id of release findings.
pub const CONTROL: &str = "chart-release";
/// Finding id of a release with an open advisory.
pub const ADVISORY_ID: &str = "Z2JH-chart-advisory";
/// Finding id of a release older than the policy's minimum.
pub const MINIMUM_ID: &str = "Z2JH-chart-minimum";
const TITLE: &str = "Chart release with a published security advisory";
const MINIMUM_TITLE: &str = "Chart release older than the policy's minimum";

fn view(name: &'static str, detail: String, summary: &'static str) -> SettingView {
    SettingView {
        name,
        rank: Some(if name == "patched" { 0 } else { 1 }),
        detail: Some(detail),
        summary: summary.into(),
    }
}

fn advisory(version: &str, a: &Applies) -> Finding {
    let fix = match (a.fixed_in_line, a.fixed_later) {
        (Some(f), _) => format!("first fixed in {f}"),
        (None, Some(f)) => format!("no release of its line fixes it; first fixed in {f}"),
        (None, None) => "no fixed release yet".to_string(),
    };
    Finding {
        id: ADVISORY_ID.into(),
        severity: Severity::Medium,
        status: Status::Violated,
        control: CONTROL,
        title: TITLE,
        policy_field: "chart".into(),
        required: view(
            "patched",
            a.fix().unwrap_or("a fixed release").to_string(),
            "a chart release without published advisories",
        ),
        found: Some(view(
            "vulnerable",
            version.to_string(),
            "the release ships a component with a published advisory",
        )),
        message: format!(
            "chart {version} is affected by {}: {} ({}); {fix}",
            a.ids(),
            a.advisory.summary,
            a.advisory.component
        ),
        evidence: None,
        fix: None,
        tradeoffs: Vec::new(),
        exception: None,
        profile: None,
    }
}

fn minimum(version: &str, min: &str) -> Finding {
    Finding {
        id: MINIMUM_ID.into(),
        severity: Severity::High,
        status: Status::Violated,
        control: CONTROL,
        title: MINIMUM_TITLE,
        policy_field: "minimumChart".into(),
        required: view(
            "patched",
            format!(">= {min}"),
            "the policy's minimum chart release",
        ),
        found: Some(view(
            "vulnerable",
            version.to_string(),
            "an older chart release",
        )),
        message: format!("chart {version} is older than the policy's `minimumChart: {min}`"),
        evidence: None,
        fix: None,
        tradeoffs: Vec::new(),
        exception: None,
        profile: None,
    }
}

/// Release findings; none when the installed release is not known.
pub fn findings(reference: &Reference, installed: &Installed) -> Vec<Finding> {
    let Some(version) = installed.chart_version.as_deref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(min) = reference.loaded.policy.minimum_chart.as_deref()
        && let (Some(have), Some(want)) = (Version::parse(version), Version::parse(min))
        && have < want
    {
        out.push(minimum(version, min));
    }
    out.extend(affecting(version).iter().map(|a| advisory(version, a)));
    out
}

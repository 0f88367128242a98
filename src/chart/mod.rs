//! Chart versions the compiler knows, and what differs between their lines:
//! the embedded release data ([`releases`]), which values keys each release
//! accepts ([`keys`]), and published security advisories ([`advisories`]).

pub mod advisories;
pub mod keys;
pub mod releases;
pub mod version;

/// A z2jh chart release line. Keys and defaults differ between lines
/// (security contexts hardened in 4.0.0, KubeSpawner 6 → 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum ChartLine {
    V3,
    V4,
}

impl ChartLine {
    /// The line of a version string already checked by the `chart-version` format.
    pub fn of(version: &str) -> ChartLine {
        if version.starts_with("3.") {
            ChartLine::V3
        } else {
            ChartLine::V4
        }
    }
}

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use jsonschema::Validator;

use serde_json::Value;

use crate::diag::Diagnostic;

/// Where the chart's defaults and schema come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartSource {
    /// A chart folder as `helm pull --untar` leaves it.
    Dir(PathBuf),
    /// An embedded release.
    Release(String),
}

impl ChartSource {
    /// `--chart DIR` wins over `--chart-version V`; neither gives `None`.
    pub fn pick(dir: Option<&Path>, version: Option<&str>) -> Option<ChartSource> {
        match (dir, version) {
            (Some(d), _) => Some(ChartSource::Dir(d.to_path_buf())),
            (None, Some(v)) => Some(ChartSource::Release(v.to_string())),
            (None, None) => None,
        }
    }

    pub fn load(&self) -> Result<ChartDir, Diagnostic> {
        match self {
            ChartSource::Dir(d) => ChartDir::load(d),
            ChartSource::Release(v) => ChartDir::release(v),
        }
    }
}

/// A chart's defaults and schema: from a chart folder as `helm pull --untar`
/// leaves it, or from an embedded release.
#[derive(Debug, Clone)]
pub struct ChartDir {
    pub name: String,
    pub version: String,
    pub defaults: Value,
    pub schema: Value,
    /// The embedded release the data comes from (its compiled schema is
    /// shared by every chart loaded from it).
    release: Option<&'static releases::Release>,
    /// The compiled schema, built on first use and kept for later checks.
    validator: OnceLock<Result<Validator, String>>,
}

impl ChartDir {
    /// The embedded data of a release.
    pub fn release(version: &str) -> Result<ChartDir, Diagnostic> {
        let r = releases::find(version).ok_or_else(|| unknown_release(version))?;
        Ok(ChartDir {
            name: "jupyterhub".into(),
            version: r.version.clone(),
            defaults: r.defaults(),
            schema: r.schema().clone(),
            release: Some(r),
            validator: OnceLock::new(),
        })
    }

    pub fn load(dir: &Path) -> Result<ChartDir, Diagnostic> {
        let read = |f: &str| crate::parse::read_text(&dir.join(f));
        let chart_text = read("Chart.yaml")?;
        let chart_name = dir.join("Chart.yaml").display().to_string();
        let chart = crate::parse::read_yaml(&chart_name, &chart_text)?.value;
        let values_name = dir.join("values.yaml").display().to_string();
        let defaults = crate::parse::read_yaml(&values_name, &read("values.yaml")?)?.value;
        let schema_path = dir.join("values.schema.json");
        let schema_text = read("values.schema.json")?;
        let schema: Value = serde_json::from_str(&schema_text).map_err(|e| {
            Diagnostic::error(format!(
                "`{}` is not valid JSON: {e}",
                schema_path.display()
            ))
        })?;
        Ok(ChartDir {
            name: chart
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
            version: chart
                .get("version")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
            defaults,
            schema,
            release: None,
            validator: OnceLock::new(),
        })
    }

    /// The validator of `values.schema.json`, built once per chart (once per
    /// process for an embedded release).
    pub fn validator(&self) -> Result<&Validator, String> {
        self.validator
            .get_or_init(|| match self.release {
                // A copy shares the compiled schema.
                Some(r) => r.validator().cloned(),
                None => crate::validate::schema_check::validator(&self.schema),
            })
            .as_ref()
            .map_err(String::clone)
    }
}

/// The error for a version without embedded data.
pub fn unknown_release(version: &str) -> Diagnostic {
    Diagnostic::error(format!("no chart data for z2jh {version}")).help(format!(
        "known releases: {}; for another release pass its folder with `--chart DIR` (`helm pull jupyterhub/jupyterhub --version {version} --untar`)",
        releases::compact_list()
    ))
}

//! `z2jh-policy validate (--chart-version V | --chart DIR) VALUES...`.

use std::path::PathBuf;

use super::{exit, report};
use crate::chart::ChartSource;
use crate::diag::{Diagnostic, ErrorFormat};
use crate::validate::chart_values::validate_against_chart;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Chart release whose embedded defaults and schema to use (e.g. 4.4.0).
    #[arg(long, value_name = "VERSION", required_unless_present = "chart")]
    pub chart_version: Option<String>,
    /// Chart folder (as `helm pull --untar` gives it) holding values.yaml and
    /// values.schema.json; wins over --chart-version.
    #[arg(long)]
    pub chart: Option<PathBuf>,
    /// Values files, merged in order like `helm -f a.yaml -f b.yaml`.
    #[arg(required = true)]
    pub values: Vec<PathBuf>,
    /// Dotted path of the z2jh values inside an umbrella chart's values
    /// (e.g. `jupyterhub`, `binderhub.jupyterhub`).
    #[arg(long, value_name = "PATH")]
    pub values_key: Option<String>,
}

pub fn run(a: &Args, fmt: ErrorFormat) -> u8 {
    let source = ChartSource::pick(a.chart.as_deref(), a.chart_version.as_deref())
        .expect("clap requires one of --chart and --chart-version");
    let chart = match source.load() {
        Ok(c) => c,
        Err(d) => {
            report(&[d], fmt);
            return exit::ERROR;
        }
    };
    let files =
        match crate::validate::chart_values::read_files(&a.values, a.values_key.as_deref(), true) {
            Ok((files, notes)) => {
                if !notes.is_empty() {
                    report(&notes, fmt);
                }
                files
            }
            Err(d) => {
                report(&d, fmt);
                return exit::ERROR;
            }
        };
    let errors = validate_against_chart(&chart, &files);
    if errors.is_empty() {
        eprintln!(
            "ok: {} value file(s) valid for chart {} {}",
            files.len(),
            chart.name,
            chart.version
        );
        exit::OK
    } else {
        report(&errors, fmt);
        let _: &[Diagnostic] = &errors;
        exit::FOUND
    }
}

//! `z2jh-policy validate --chart DIR VALUES...`.

use std::path::PathBuf;

use super::{exit, report};
use crate::chart::ChartDir;
use crate::diag::{Diagnostic, ErrorFormat};
use crate::validate::chart_values::validate_against_chart;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Chart folder (as `helm pull --untar` gives it) holding values.yaml and values.schema.json.
    #[arg(long)]
    pub chart: PathBuf,
    /// Values files, merged in order like `helm -f a.yaml -f b.yaml`.
    #[arg(required = true)]
    pub values: Vec<PathBuf>,
    /// Dotted path of the z2jh values inside an umbrella chart's values
    /// (e.g. `jupyterhub`, `binderhub.jupyterhub`).
    #[arg(long, value_name = "PATH")]
    pub values_key: Option<String>,
}

pub fn run(a: &Args, fmt: ErrorFormat) -> u8 {
    let chart = match ChartDir::load(&a.chart) {
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

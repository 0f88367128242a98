//! `z2jh-policy validate (--chart-version V | --chart DIR) VALUES...`.

use std::path::PathBuf;

use super::{exit, report};
use crate::chart::ChartSource;
use crate::diag::{Diagnostic, ErrorFormat};
use crate::validate::chart_values::{ValuesFile, validate_against_chart};

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
    let mut files = Vec::new();
    for p in &a.values {
        match ValuesFile::read(p) {
            Ok(f) => files.push(f),
            Err(d) => {
                report(&[d], fmt);
                return exit::ERROR;
            }
        }
    }
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

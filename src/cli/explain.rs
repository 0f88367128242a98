//! `z2jh-policy explain POLICY [KEY]`: why each emitted value and manifest
//! is there.

use std::path::PathBuf;

use super::{exit, report};
use crate::compile::{Options, compile};
use crate::diag::ErrorFormat;
use crate::explain;
use crate::parse::Input;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file.
    pub policy: PathBuf,
    /// Only this values path (a subtree matches too, e.g. `singleuser.networkPolicy`)
    /// or manifest (`Kind/name`).
    pub key: Option<String>,
    /// Target chart version, overriding the policy's `chart:`.
    #[arg(long)]
    pub chart_version: Option<String>,
    #[command(flatten)]
    pub today: super::TodayArg,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run(a: &Args, fmt: ErrorFormat) -> u8 {
    let opts = Options {
        chart_version: a.chart_version.clone(),
        today: a.today.today,
        // Explaining a policy whose exception has expired is how one finds out.
        expired_is_warning: true,
    };
    let compiled = match compile(&Input::File(a.policy.clone()), &opts) {
        Ok(c) => c,
        Err(diags) => {
            report(&diags, fmt);
            return exit::ERROR;
        }
    };
    let all = explain::entries(&compiled);
    let entries = match &a.key {
        None => all,
        Some(k) => match explain::select(all, k) {
            Ok(e) => e,
            Err(d) => {
                report(&[d], fmt);
                return exit::ERROR;
            }
        },
    };
    let today = match super::today(&a.today) {
        Ok(t) => t,
        Err(d) => {
            report(&d, fmt);
            return exit::ERROR;
        }
    };
    match a.format {
        Format::Text => {
            print!("{}", explain::text(&entries));
            // The whole listing ends with the exceptions; a key selects values.
            if a.key.is_none() {
                print!(
                    "{}",
                    explain::exceptions_text(&explain::exceptions(&compiled, today))
                );
            }
        }
        Format::Json => print!("{}", explain::json(&compiled, &entries, today)),
    }
    exit::OK
}

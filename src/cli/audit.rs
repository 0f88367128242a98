//! `z2jh-policy audit VALUES...`: grade existing z2jh values against the
//! `restricted` preset (or `--policy FILE`), profile overrides included.

use std::path::PathBuf;

use super::check::{Common, installed};
use crate::assess::inputs::judge_for;
use crate::assess::site::restricted_for;
use crate::assess::{Reference, Scope, assess};
use crate::diag::ErrorFormat;
use crate::parse::{Input, load};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Values files, merged in order like `helm -f a.yaml -f b.yaml`.
    #[arg(required = true)]
    pub values: Vec<PathBuf>,
    /// Grade against this policy instead of the `restricted` preset.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

pub fn run(a: &Args, fmt: ErrorFormat) -> u8 {
    let policy = match &a.policy {
        Some(p) => match load(&Input::File(p.clone())) {
            Ok(l) => Some((format!("policy `{}`", p.display()), l)),
            Err(d) => return super::check::finish(Err(d), &a.common, fmt),
        },
        None => None,
    };
    let policy_chart = policy.as_ref().map(|(_, l)| l.policy.chart.clone());
    let result = installed(&a.values, &a.common, policy_chart.as_deref()).and_then(|inst| {
        let (name, mut loaded) = match policy {
            Some(p) => p,
            None => (
                "preset `restricted`".to_string(),
                restricted_for(&inst.merged())?,
            ),
        };
        judge_for(&mut loaded, &inst);
        let mut reference = Reference::new(name, loaded)?;
        reference.today = Some(super::today(&a.common.today)?);
        Ok(assess("audit", &reference, &inst, Scope::WithProfiles))
    });
    super::check::finish(result, &a.common, fmt)
}

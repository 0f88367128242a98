//! `z2jh-policy audit VALUES...`: grade existing z2jh values against the
//! `restricted` preset (or `--policy FILE`), profile overrides included.

use std::path::PathBuf;

use super::check::{Common, installed};
use crate::assess::{Reference, Scope, assess};
use crate::diag::ErrorFormat;
use crate::parse::{Input, Loaded, load};
use crate::policy::{Host, Letsencrypt};
use crate::values;

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

/// The preset leaves the site's host names and contact to the user; take
/// them from the values when they are there, else example ones, so the
/// preset compiles and every fix can be shown.
fn fill_site(loaded: &mut Loaded, merged: &serde_json::Value) {
    let h = &mut loaded.policy.spec.https;
    if h.hosts.is_empty() {
        let hosts: Vec<Host> = values::get(merged, &["proxy", "https", "hosts"])
            .and_then(serde_json::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(serde_json::Value::as_str)
                    .filter(|s| crate::validate::formats::hostname(s).is_ok())
                    .map(|s| Host(s.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        h.hosts = if hosts.is_empty() {
            vec![Host("hub.example.org".into())]
        } else {
            hosts
        };
    }
    if h.letsencrypt.is_none() {
        let email = values::get_str(merged, &["proxy", "https", "letsencrypt", "contactEmail"])
            .filter(|e| crate::validate::formats::email(e).is_ok())
            .unwrap_or("admin@example.org");
        h.letsencrypt = Some(Letsencrypt {
            contact_email: email.to_string(),
            acme_server: None,
        });
    }
}

pub fn run(a: &Args, fmt: ErrorFormat) -> u8 {
    let result = installed(&a.values, &a.common).and_then(|inst| {
        let reference = match &a.policy {
            Some(p) => Reference::new(
                format!("policy `{}`", p.display()),
                load(&Input::File(p.clone()))?,
            )?,
            None => {
                let mut loaded = load(&Input::Preset("restricted".into()))?;
                fill_site(&mut loaded, &inst.merged());
                if let Some(v) = &inst.chart_version {
                    loaded.policy.chart = v.clone();
                }
                Reference::new("preset `restricted`".into(), loaded)?
            }
        };
        Ok(assess("audit", &reference, &inst, Scope::WithProfiles))
    });
    super::check::finish(result, a.common.format, fmt)
}

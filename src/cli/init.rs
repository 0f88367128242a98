//! `z2jh-policy init --from VALUES...`: propose a policy from existing values.

use std::path::PathBuf;

use super::check::read;
use super::{exit, report};
use crate::assess::inputs::Sources;
use crate::diag::ErrorFormat;
use crate::init::{Options, propose};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Values files of the existing install, merged in order like `helm -f a.yaml -f b.yaml`.
    #[arg(long = "from", required = true, num_args = 1..)]
    pub from: Vec<PathBuf>,
    /// Chart release installed (e.g. 4.4.0), whose embedded defaults lie under the values.
    #[arg(long, value_name = "VERSION")]
    pub chart_version: Option<String>,
    /// Chart folder (`helm pull --untar`) whose values.yaml holds the
    /// defaults; wins over --chart-version. Without either the `baseline`
    /// preset's values stand in for them.
    #[arg(long)]
    pub chart: Option<PathBuf>,
    /// Dotted path of the z2jh values inside an umbrella chart's values
    /// (e.g. `jupyterhub`, `binderhub.jupyterhub`).
    #[arg(long, value_name = "PATH")]
    pub values_key: Option<String>,
    /// Manifests applied beside the chart (e.g. the user servers'
    /// ServiceAccount, RoleBindings, NetworkPolicies): read like `check --manifests`.
    #[arg(long, num_args = 1..)]
    pub manifests: Vec<PathBuf>,
    /// `metadata.name` of the policy (the hub's name).
    #[arg(long, default_value = "jupyterhub")]
    pub name: String,
    /// `metadata.namespace`: the namespace the chart is installed into.
    #[arg(long, default_value = "jhub")]
    pub namespace: String,
    /// Schema path or URL for the editor modeline (`z2jh-policy schema > policy.schema.json`).
    #[arg(long, default_value = "policy.schema.json")]
    pub schema: String,
}

pub fn run(a: &Args, fmt: ErrorFormat) -> u8 {
    let sources = Sources {
        chart_version: a.chart_version.as_deref(),
        chart: a.chart.as_deref(),
        manifests: &a.manifests,
    };
    let opts = Options {
        name: a.name.clone(),
        namespace: a.namespace.clone(),
        schema: a.schema.clone(),
    };
    match read(&a.from, a.values_key.as_deref(), &sources, None)
        .and_then(|inst| propose(&inst, &opts))
    {
        Ok(p) => {
            print!("{}", p.text);
            if !p.unexpressed.is_empty() {
                eprintln!(
                    "note: extends `{}`; {} thing(s) could not be expressed:",
                    p.preset,
                    p.unexpressed.len()
                );
                for u in &p.unexpressed {
                    eprintln!("  - {u}");
                }
            }
            if !p.changes.is_empty() {
                eprintln!(
                    "note: compiling it changes {} thing(s) the values or manifests hold now:",
                    p.changes.len()
                );
                for c in &p.changes {
                    eprintln!("  - {c}");
                }
            }
            exit::OK
        }
        Err(diags) => {
            report(&diags, fmt);
            exit::ERROR
        }
    }
}

//! `z2jh-policy diff`: drift of committed output, or the security effect of a policy change.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{exit, report};
use crate::chart::{ChartDir, ChartLine};
use crate::compile::{Compiled, Options, compile};
use crate::controls::ValuesView;
use crate::diag::{Diagnostic, ErrorFormat};
use crate::diff::{self, Direction, render};
use crate::emit::owned_paths;
use crate::parse::{Input, read_text};
use crate::values::helm_merge;
use crate::yaml;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any difference fails (exit 1).
    Any,
    /// Only a security weakening fails; harmless drift exits 0.
    Weaken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 no differences (or none that --fail-on counts), 1 differences, 2 error."
)]
pub struct Args {
    /// The policy (the new side).
    pub policy: PathBuf,
    /// Compare with the files committed in DIR (the layout `compile -o DIR` writes).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["base", "base_ref"])]
    pub against: Option<PathBuf>,
    /// Compare with what another policy compiles to.
    #[arg(long, value_name = "OLD_POLICY", conflicts_with = "base_ref")]
    pub base: Option<PathBuf>,
    /// Compare with POLICY as it was at git revision REF (e.g. origin/main).
    #[arg(long, value_name = "REF")]
    pub base_ref: Option<String>,
    /// Chart folder whose defaults the committed values are merged over before reading them back.
    #[arg(long, value_name = "DIR")]
    pub chart: Option<PathBuf>,
    /// Target chart version, overriding the policies' `chart:`.
    #[arg(long)]
    pub chart_version: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Lines of context in unified diffs.
    #[arg(short = 'U', long = "unified", default_value_t = 3)]
    pub context: usize,
    /// Colour in text output (auto: only on a terminal, and never with NO_COLOR set).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// What makes the exit status 1.
    #[arg(long, value_enum, default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
    /// Name in the hidden Markdown marker, to keep one comment per hub.
    #[arg(long)]
    pub marker: Option<String>,
    /// Longest Markdown output (GitHub comments hold 65,536 characters).
    #[arg(long, default_value_t = 65_000)]
    pub max_comment_chars: usize,
}

pub fn run(a: &Args, fmt: ErrorFormat) -> u8 {
    match build(a) {
        Ok(r) => {
            let color = match a.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            };
            let text = match a.format {
                Format::Text => render::text(&r, color),
                Format::Markdown => render::markdown(
                    &r,
                    &render::marker(a.marker.as_deref()),
                    a.max_comment_chars,
                ),
                Format::Json => render::json(&r),
            };
            print!("{text}");
            let failing = match a.fail_on {
                FailOn::Any => r.has_differences(),
                FailOn::Weaken => r.count(Direction::Weakens) > 0,
            };
            if failing { exit::FOUND } else { exit::OK }
        }
        Err(diags) => {
            report(&diags, fmt);
            exit::ERROR
        }
    }
}

fn compile_at(path: &Path, a: &Args) -> Result<Compiled, Vec<Diagnostic>> {
    compile(
        &Input::File(path.to_path_buf()),
        &Options {
            chart_version: a.chart_version.clone(),
        },
    )
}

fn build(a: &Args) -> Result<diff::Report, Vec<Diagnostic>> {
    let head = compile_at(&a.policy, a)?;
    if let Some(dir) = &a.against {
        return drift(&head, dir, a);
    }
    if let Some(base) = &a.base {
        let base = compile_at(base, a)?;
        return Ok(diff::policies(&base, &head, a.context));
    }
    if let Some(rev) = &a.base_ref {
        let tmp = tempfile::tempdir().map_err(|e| vec![Diagnostic::error(e.to_string())])?;
        let old = diff::git::checkout_policy(rev, &a.policy, tmp.path()).map_err(|d| vec![d])?;
        let mut base = compile_at(&old, a)?;
        base.loaded.origin = format!("{rev}:{}", a.policy.display());
        return Ok(diff::policies(&base, &head, a.context));
    }
    Err(vec![Diagnostic::error("nothing to compare with").help(
        "give `--against DIR`, `--base OLD_POLICY` or `--base-ref REF`",
    )])
}

fn drift(head: &Compiled, dir: &Path, a: &Args) -> Result<diff::Report, Vec<Diagnostic>> {
    if !dir.is_dir() {
        return Err(vec![
            Diagnostic::error(format!("`{}` is not a directory", dir.display()))
                .help("give the directory `compile -o DIR` wrote"),
        ]);
    }
    let mut committed = Vec::new();
    for rel in owned_paths() {
        let p = dir.join(&rel);
        if p.exists() {
            committed.push((rel, read_text(&p).map_err(|d| vec![d])?));
        }
    }
    let chart = match &a.chart {
        Some(c) => Some(ChartDir::load(c).map_err(|d| vec![d])?),
        None => None,
    };
    let defaults = chart.as_ref().map_or(Value::Null, |c| c.defaults.clone());
    let line = ChartLine::of(&head.loaded.policy.chart);
    // Values as Helm would see them; an unparsable file reads as empty values.
    let merged = |text: Option<&str>| {
        let mut v = if defaults.is_null() {
            serde_json::json!({})
        } else {
            defaults.clone()
        };
        if let Some(doc) = text.and_then(|t| yaml::parse(t).ok()) {
            helm_merge(&mut v, &doc.value);
        }
        v
    };
    let committed_values = merged(
        committed
            .iter()
            .find(|(p, _)| p == "values.yaml")
            .map(|(_, t)| t.as_str()),
    );
    let compiled_values = merged(Some(&yaml::to_string(&head.rendered.values)));
    let committed_manifests: Vec<Value> = committed
        .iter()
        .filter(|(p, _)| p.starts_with("manifests/"))
        .flat_map(|(_, t)| yaml::parse_stream(t).unwrap_or_default())
        .collect();
    let compiled_manifests = head.rendered.manifest_objects();
    let compiled_view = ValuesView {
        values: &compiled_values,
        defaults: &defaults,
        manifests: Some(&compiled_manifests),
        chart: line,
    };
    let committed_view = ValuesView {
        values: &committed_values,
        defaults: &defaults,
        manifests: Some(&committed_manifests),
        chart: line,
    };
    Ok(diff::drift(
        head,
        &committed,
        &compiled_view,
        &committed_view,
        &dir.display().to_string(),
        a.context,
    ))
}

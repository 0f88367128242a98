//! `z2jh-policy diff`: drift of committed output (`--against DIR`), or the
//! security effect of a policy change (`--base FILE`, `--base-ref REF`).
//! Prints the report on stdout; errors go to stderr with exit 2.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::{exit, report};
use crate::diag::ErrorFormat;
use crate::diff::render::{self, MarkdownOptions};
use crate::diff::{self, Request};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Unified diffs under a security summary, for terminals and CI logs.
    Text,
    /// A PR comment: hidden marker, summary tables, diffs in <details>.
    Markdown,
    /// The report as data (shape in docs/diff.md).
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any difference exits 1.
    Any,
    /// Only a weakened control exits 1; other differences exit 0.
    Weaken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
#[command(
    group(clap::ArgGroup::new("compare").required(true).args(["against", "base", "base_ref"])),
    after_help = "Exit status: 0 no differences (with --fail-on weaken: no weakening), \
                  1 differences (with --fail-on weaken: a weakened control), \
                  2 error (bad policy, unreadable or invalid files, unknown git revision)."
)]
pub struct Args {
    /// The policy (the new side).
    pub policy: PathBuf,
    /// Compare with the files committed in DIR (the layout `compile -o DIR` writes).
    #[arg(long, value_name = "DIR")]
    pub against: Option<PathBuf>,
    /// Compare with what another policy compiles to.
    #[arg(long, value_name = "OLD_POLICY")]
    pub base: Option<PathBuf>,
    /// Compare with POLICY (and the files it extends) as of git revision REF, e.g. origin/main.
    #[arg(long, value_name = "REF")]
    pub base_ref: Option<String>,
    /// With --against: chart folder whose defaults the values are merged over before reading controls back.
    #[arg(long, value_name = "DIR", requires = "against")]
    pub chart: Option<PathBuf>,
    /// Target chart version for both sides, overriding the policies' `chart:`.
    #[arg(long, value_name = "VERSION")]
    pub chart_version: Option<String>,
    #[command(flatten)]
    pub today: super::TodayArg,
    /// List the new side's exceptions that expire within DAYS days of today (or have expired).
    #[arg(long, value_name = "DAYS", default_value_t = crate::exceptions::DEFAULT_EXPIRING_WITHIN,
          value_parser = clap::value_parser!(i64).range(0..=36_500))]
    pub expiring_within: i64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Lines of context in unified diffs.
    #[arg(short = 'U', long = "unified", value_name = "N", default_value_t = 3)]
    pub context: usize,
    /// Colour in text output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// What makes the exit status 1.
    #[arg(long, value_enum, default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
    /// Name in the Markdown marker (`<!-- z2jh-policy diff: NAME -->`): one comment per hub.
    /// Letters, digits, `.`, `_`, `-` and spaces, at most 100.
    #[arg(long, value_name = "NAME", value_parser = marker_name)]
    pub marker: Option<String>,
    /// Longest Markdown output, in UTF-8 bytes (GitHub comments hold 65,536 characters).
    #[arg(long, value_name = "N", default_value_t = 65_000,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1000..))]
    pub max_comment_chars: usize,
    /// Where the full report can be read (e.g. the CI run), named when Markdown is shortened.
    #[arg(long, value_name = "URL")]
    pub full_report_url: Option<String>,
}

pub fn run(a: &Args, fmt: ErrorFormat) -> u8 {
    let req = Request {
        policy: a.policy.clone(),
        against: a.against.clone(),
        chart: a.chart.clone(),
        base: a.base.clone(),
        base_ref: a.base_ref.clone(),
        chart_version: a.chart_version.clone(),
        today: a.today.today,
        expiring_within: a.expiring_within,
        context: a.context,
    };
    let r = match diff::build(&req) {
        Ok(r) => r,
        Err(diags) => {
            report(&diags, fmt);
            return exit::ERROR;
        }
    };
    let out = match a.format {
        Format::Text => render::text(&r, use_color(a.color)),
        Format::Markdown => render::markdown(
            &r,
            &MarkdownOptions {
                marker: &render::marker(a.marker.as_deref()),
                max_chars: a.max_comment_chars,
                rerun: &req.rerun(),
                full_report_url: a.full_report_url.as_deref(),
            },
        ),
        Format::Json => render::json(&r),
    };
    print!("{out}");
    let failing = match a.fail_on {
        FailOn::Any => r.has_differences(),
        FailOn::Weaken => r.weakens(),
    };
    if failing { exit::FOUND } else { exit::OK }
}

/// Marker names stay inside the HTML comment and are easy to match.
fn marker_name(s: &str) -> Result<String, String> {
    let ok = !s.trim().is_empty()
        && s.len() <= 100
        && !s.contains("--")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._- ".contains(c));
    if ok {
        Ok(s.to_string())
    } else {
        Err("expected 1 to 100 letters, digits, `.`, `_`, `-` or spaces, without `--`".into())
    }
}

fn use_color(c: Color) -> bool {
    match c {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_names_stay_inside_the_comment() {
        assert!(marker_name("hub-a").is_ok());
        assert!(marker_name("staging hub 2").is_ok());
        for bad in ["", "a--b", "x -->", "a\nb", "<b>"] {
            assert!(marker_name(bad).is_err(), "{bad:?}");
        }
    }
}

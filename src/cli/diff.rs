//! `z2jh-policy diff`: drift of committed output (`--against DIR`), or the
//! security effect of a policy change (`--base FILE`, `--base-ref REF`).
//! Prints the report on stdout; errors go to stderr with exit 2.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::{exit, report};
use crate::chart::ChartDir;
use crate::compile::{Compiled, Options, compile, compile_from};
use crate::diag::{Diagnostic, ErrorFormat};
use crate::diff::git::GitRevision;
use crate::diff::render::{self, MarkdownOptions};
use crate::diff::{self, Committed, Report};
use crate::parse::{Files, Input};

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
    let r = match build(a) {
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
                rerun: &rerun(a),
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

/// A word as a POSIX shell reads it.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@=+,%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn command(words: &[String]) -> String {
    words
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// This comparison as a command line (for "see everything" notes).
fn rerun(a: &Args) -> String {
    let mut w = vec!["z2jh-policy".into(), "diff".into(), path(&a.policy)];
    if let Some(d) = &a.against {
        w.extend(["--against".into(), path(d)]);
    }
    if let Some(b) = &a.base {
        w.extend(["--base".into(), path(b)]);
    }
    if let Some(r) = &a.base_ref {
        w.extend(["--base-ref".into(), r.clone()]);
    }
    if let Some(c) = &a.chart {
        w.extend(["--chart".into(), path(c)]);
    }
    if let Some(v) = &a.chart_version {
        w.extend(["--chart-version".into(), v.clone()]);
    }
    command(&w)
}

fn compile_with(input: Input, files: &dyn Files, a: &Args) -> Result<Compiled, Vec<Diagnostic>> {
    // The old side is compared, not deployed: an exception that has
    // expired there (the change may be its renewal) does not stop the diff.
    let opts = Options {
        chart_version: a.chart_version.clone(),
        today: a.today.today,
        expired_is_warning: true,
    };
    compile_from(&input, files, &opts)
}

fn build(a: &Args) -> Result<Report, Vec<Diagnostic>> {
    let head = compile(
        &Input::File(a.policy.clone()),
        &Options {
            chart_version: a.chart_version.clone(),
            today: a.today.today,
            ..Default::default()
        },
    )?;
    let today = super::today(&a.today)?;
    let days = a.expiring_within;
    let head_policy = &head.loaded.policy;
    if let Some(dir) = &a.against {
        let committed = Committed::read(dir)?;
        let chart = match &a.chart {
            Some(c) => Some(ChartDir::load(c).map_err(|d| vec![d])?),
            None => None,
        };
        let mut regenerate = vec![
            "z2jh-policy".into(),
            "compile".into(),
            path(&a.policy),
            "-o".into(),
            path(dir),
        ];
        if let Some(v) = &a.chart_version {
            regenerate.extend(["--chart-version".into(), v.clone()]);
        }
        return Ok(diff::drift(
            &head,
            &committed,
            chart.as_ref(),
            a.context,
            command(&regenerate),
        )
        .with_exceptions(None, head_policy, today, days));
    }
    if let Some(base) = &a.base {
        let base = compile_with(Input::File(base.clone()), &crate::parse::Disk, a)?;
        return Ok(diff::policies(&base, &head, a.context).with_exceptions(
            Some(&base.loaded.policy),
            head_policy,
            today,
            days,
        ));
    }
    let rev = a.base_ref.as_deref().unwrap_or("HEAD");
    let repo = GitRevision::open(rev).map_err(|d| vec![d])?;
    let at = repo.locate(&a.policy).map_err(|d| vec![d])?;
    if !repo.has(&at) {
        // A new hub: nothing to weaken, every file is added.
        let name = format!("{} (absent)", repo.name(&at));
        let mut none = head_policy.clone();
        none.exceptions.clear();
        return Ok(diff::new_policy(name, &head, a.context).with_exceptions(
            Some(&none),
            head_policy,
            today,
            days,
        ));
    }
    let base = compile_with(Input::File(at), &repo, a)?;
    Ok(diff::policies(&base, &head, a.context).with_exceptions(
        Some(&base.loaded.policy),
        head_policy,
        today,
        days,
    ))
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

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("hub/policy.yaml"), "hub/policy.yaml");
        assert_eq!(shell_word("my hub.yaml"), "'my hub.yaml'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}

//! A comparison as asked for: the new policy, what it is compared with
//! (committed files, another policy, the policy at a git revision, or
//! nothing for a new hub), and the commands a report names.

use std::path::{Path, PathBuf};

use super::git::GitRevision;
use super::{Committed, Report};
use crate::chart::ChartDir;
use crate::compile::{Compiled, Options, compile, compile_from, resolve_today};
use crate::diag::Diagnostic;
use crate::exceptions::Date;
use crate::parse::{Disk, Files, Input};

#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The policy (the new side).
    pub policy: PathBuf,
    /// Compare with the files `compile -o DIR` committed here (drift).
    pub against: Option<PathBuf>,
    /// With `against`: the chart folder whose defaults lie under the values.
    pub chart: Option<PathBuf>,
    /// Compare with what another policy compiles to.
    pub base: Option<PathBuf>,
    /// Compare with the policy as of this git revision (`HEAD` when no
    /// other base is given).
    pub base_ref: Option<String>,
    /// Target chart version for both sides.
    pub chart_version: Option<String>,
    /// The day exceptions are judged on (see [`resolve_today`]).
    pub today: Option<Date>,
    /// List the new side's exceptions expiring within this many days.
    pub expiring_within: i64,
    /// Lines of context in unified diffs.
    pub context: usize,
}

impl Request {
    /// This comparison as a command line (for "see everything" notes).
    pub fn rerun(&self) -> String {
        let mut w = vec!["z2jh-policy".into(), "diff".into(), path(&self.policy)];
        if let Some(d) = &self.against {
            w.extend(["--against".into(), path(d)]);
        }
        if let Some(b) = &self.base {
            w.extend(["--base".into(), path(b)]);
        }
        if let Some(r) = &self.base_ref {
            w.extend(["--base-ref".into(), r.clone()]);
        }
        if let Some(c) = &self.chart {
            w.extend(["--chart".into(), path(c)]);
        }
        if let Some(v) = &self.chart_version {
            w.extend(["--chart-version".into(), v.clone()]);
        }
        command(&w)
    }

    fn compile_base(&self, input: Input, files: &dyn Files) -> Result<Compiled, Vec<Diagnostic>> {
        // The old side is compared, not deployed: an exception that has
        // expired there (the change may be its renewal) does not stop the diff.
        let opts = Options {
            chart_version: self.chart_version.clone(),
            today: self.today,
            expired_is_warning: true,
        };
        compile_from(&input, files, &opts)
    }
}

/// Compiles both sides and compares them.
pub fn build(r: &Request) -> Result<Report, Vec<Diagnostic>> {
    let head = compile(
        &Input::File(r.policy.clone()),
        &Options {
            chart_version: r.chart_version.clone(),
            today: r.today,
            ..Default::default()
        },
    )?;
    let today = resolve_today(r.today).map_err(|d| vec![d])?;
    let days = r.expiring_within;
    let head_policy = &head.loaded.policy;
    if let Some(dir) = &r.against {
        let committed = Committed::read(dir)?;
        let chart = match &r.chart {
            Some(c) => Some(ChartDir::load(c).map_err(|d| vec![d])?),
            None => None,
        };
        let mut regenerate = vec![
            "z2jh-policy".into(),
            "compile".into(),
            path(&r.policy),
            "-o".into(),
            path(dir),
        ];
        if let Some(v) = &r.chart_version {
            regenerate.extend(["--chart-version".into(), v.clone()]);
        }
        return Ok(super::drift(
            &head,
            &committed,
            chart.as_ref(),
            r.context,
            command(&regenerate),
        )
        .with_exceptions(None, head_policy, today, days));
    }
    if let Some(base) = &r.base {
        let base = r.compile_base(Input::File(base.clone()), &Disk)?;
        return Ok(super::policies(&base, &head, r.context).with_exceptions(
            Some(&base.loaded.policy),
            head_policy,
            today,
            days,
        ));
    }
    let rev = r.base_ref.as_deref().unwrap_or("HEAD");
    let repo = GitRevision::open(rev).map_err(|d| vec![d])?;
    let at = repo.locate(&r.policy).map_err(|d| vec![d])?;
    if !repo.has(&at) {
        // A new hub: nothing to weaken, every file is added.
        let name = format!("{} (absent)", repo.name(&at));
        let mut none = head_policy.clone();
        none.exceptions.clear();
        return Ok(super::new_policy(name, &head, r.context).with_exceptions(
            Some(&none),
            head_policy,
            today,
            days,
        ));
    }
    let base = r.compile_base(Input::File(at), &repo)?;
    Ok(super::policies(&base, &head, r.context).with_exceptions(
        Some(&base.loaded.policy),
        head_policy,
        today,
        days,
    ))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("hub/policy.yaml"), "hub/policy.yaml");
        assert_eq!(shell_word("my hub.yaml"), "'my hub.yaml'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}

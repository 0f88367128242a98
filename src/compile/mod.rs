//! The whole pipeline as one call: parse → validate → lower → render → emit;
//! [`batch`] runs it over many policies.

pub mod batch;

use crate::diag::{Diagnostic, Loc, Severity};
use crate::emit::{self, HeaderInfo, Output};
use crate::exceptions::{self, Date};
use crate::lower::{self};
use crate::parse::{self, Input, Loaded};
use crate::plan::Plan;
use crate::render::{self, Rendered};
use crate::validate::formats::chart_version;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Overrides the policy's `chart:`.
    pub chart_version: Option<String>,
    /// The day exceptions are judged on; `None`: `SOURCE_DATE_EPOCH` when
    /// set, else the system clock (see [`Date::today`]).
    pub today: Option<Date>,
    /// An expired exception is a warning instead of an error: for the old
    /// side of a `diff`, which is compared, not deployed.
    pub expired_is_warning: bool,
}

/// A successful compilation.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub loaded: Loaded,
    pub plan: Plan,
    pub rendered: Rendered,
    pub output: Output,
}

impl Compiled {
    /// Warnings and notes, in control order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.plan.diagnostics
    }
}

/// Compiles a policy. On failure returns every error (warnings included, so
/// the caller can show the whole picture).
pub fn compile(input: &Input, opts: &Options) -> Result<Compiled, Vec<Diagnostic>> {
    compile_from(input, &parse::Disk, opts)
}

/// Like [`compile`], reading policy files from `files` (e.g. a git revision).
pub fn compile_from(
    input: &Input,
    files: &dyn parse::Files,
    opts: &Options,
) -> Result<Compiled, Vec<Diagnostic>> {
    let mut loaded = parse::load_from(input, files)?;
    if let Some(v) = &opts.chart_version {
        chart_version(v).map_err(|e| {
            vec![
                Diagnostic::error(format!("invalid --chart-version `{v}`"))
                    .help(format!("expected {e}")),
            ]
        })?;
        loaded.policy.chart = v.clone();
    }
    let mut plan = lower::lower(&loaded);
    if !loaded.policy.exceptions.is_empty() {
        let today = resolve_today(opts.today).map_err(|d| vec![d])?;
        plan.diagnostics.extend(
            exceptions::expired(&loaded, today)
                .into_iter()
                .map(|mut d| {
                    if opts.expired_is_warning {
                        d.severity = Severity::Warning;
                    }
                    d
                }),
        );
        plan.diagnostics.extend(exceptions::notes(&loaded, today));
    }
    if plan.has_errors() {
        // Notes describe output that will not be written; keep errors and warnings.
        return Err(plan
            .diagnostics
            .into_iter()
            .filter(|d| d.severity != Severity::Note)
            .collect());
    }
    let rendered = render::render(&plan)?;
    let header = HeaderInfo {
        source: loaded.origin.clone(),
        policy_name: loaded.policy.metadata.name.clone(),
        chart_version: loaded.policy.chart.clone(),
    };
    let output = emit::layout(&rendered, &header);
    Ok(Compiled {
        loaded,
        plan,
        rendered,
        output,
    })
}

/// `today`, or the day `SOURCE_DATE_EPOCH` or the clock gives.
pub fn resolve_today(today: Option<Date>) -> Result<Date, Diagnostic> {
    match today {
        Some(t) => Ok(t),
        None => Date::today()
            .map(|(d, _)| d)
            .map_err(|e| Diagnostic::error(e).help("or pass --today YYYY-MM-DD")),
    }
}

/// Location of a loaded policy's file, for messages about the whole file.
pub fn file_loc(loaded: &Loaded) -> Loc {
    Loc::file(&loaded.origin)
}

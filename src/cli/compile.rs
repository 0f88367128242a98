//! `z2jh-policy compile`: one policy, or many in one run (batch mode).
//!
//! Input: policy files and directories of policy files. Output: for each
//! policy, `values.yaml` and `manifests/*.yaml` in a directory (`-o DIR`,
//! where `{name}` stands for the policy's `metadata.name`), or one YAML
//! stream on stdout. Batch runs are all or nothing: if any policy fails, or
//! two share a name, nothing is written.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{exit, report};
use crate::compile::{Options, compile};
use crate::diag::{Diagnostic, ErrorFormat, Loc, Severity};
use crate::emit;
use crate::par;
use crate::parse::Input;

/// Stands for each policy's `metadata.name` in `--output`.
pub const NAME_PLACEHOLDER: &str = "{name}";

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Batch mode: give several policy files or a directory (each *.yaml / *.yml file directly inside is a \
policy) and put `{name}` in --output, e.g. `-o out/{name}`; it is replaced by each policy's metadata.name. \
Two policies with the same name are an error, and nothing is written unless every policy compiles."
)]
pub struct Args {
    /// Policy files, or directories whose *.yaml / *.yml files are each a policy.
    #[arg(required = true, value_name = "POLICY")]
    pub policies: Vec<PathBuf>,
    /// Output directory (writes values.yaml and manifests/*.yaml), or `-` for one YAML stream on stdout.
    /// `{name}` is replaced by each policy's metadata.name.
    #[arg(short, long, default_value = "-")]
    pub output: String,
    /// Target chart version, overriding the policy's `chart:`.
    #[arg(long)]
    pub chart_version: Option<String>,
    #[command(flatten)]
    pub today: super::TodayArg,
    /// Treat warnings as errors: nothing is written if there is any.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Overwrite files in the output directory that z2jh-policy did not generate.
    #[arg(long)]
    pub force: bool,
    /// Print errors only (no warnings or notes).
    #[arg(short, long)]
    pub quiet: bool,
    /// Write each value's policy field, line and control as a comment above it in values.yaml.
    #[arg(long)]
    pub annotate: bool,
}

pub fn run(a: &Args, fmt: ErrorFormat) -> u8 {
    let files = match expand(&a.policies) {
        Ok(f) => f,
        Err(d) => {
            report(&[d], fmt);
            return exit::ERROR;
        }
    };
    let to_dirs = a.output != "-";
    if files.len() > 1 && to_dirs && !a.output.contains(NAME_PLACEHOLDER) {
        let d = Diagnostic::error(format!(
            "{} policies would all be written to `{}`",
            files.len(),
            a.output
        ))
        .help(format!(
            "put `{NAME_PLACEHOLDER}` in --output, e.g. `-o {}/{NAME_PLACEHOLDER}`",
            a.output.trim_end_matches('/')
        ));
        report(&[d], fmt);
        return exit::ERROR;
    }
    let opts = Options {
        chart_version: a.chart_version.clone(),
        today: a.today.today,
        expired_is_warning: false,
    };
    let results = compile_all(&files, &opts, a.annotate);

    let mut diags = Vec::new();
    let mut compiled = Vec::new();
    for r in results {
        match r {
            Ok(mut c) => {
                diags.append(&mut c.diagnostics);
                compiled.push(c);
            }
            Err(errors) => diags.extend(errors),
        }
    }
    if compiled.len() > 1 {
        diags.extend(duplicate_names(&compiled));
    }
    let diags: Vec<Diagnostic> = diags
        .into_iter()
        .filter(|d| !a.quiet || d.severity == Severity::Error)
        .map(|mut d| {
            if a.deny_warnings && d.severity == Severity::Warning {
                d.severity = Severity::Error;
            }
            d
        })
        .collect();
    if diags.iter().any(Diagnostic::is_error) {
        let mut diags = diags;
        if a.deny_warnings && compiled.len() == files.len() {
            diags.push(Diagnostic::note(
                "nothing written: --deny-warnings turns warnings into errors",
            ));
        } else if files.len() > 1 {
            diags.push(Diagnostic::note(format!(
                "nothing written: a batch is written only when all {} policies compile",
                files.len()
            )));
        }
        report(&diags, fmt);
        return exit::ERROR;
    }

    if !to_dirs {
        let text: Vec<String> = compiled.iter().map(|c| emit::stream(&c.output)).collect();
        let mut stdout = std::io::stdout().lock();
        if stdout
            .write_all(text.join("---\n").as_bytes())
            .and_then(|_| stdout.flush())
            .is_err()
        {
            return exit::ERROR;
        }
    } else {
        let jobs: Vec<(PathBuf, &emit::Output)> = compiled
            .iter()
            .map(|c| {
                (
                    PathBuf::from(a.output.replace(NAME_PLACEHOLDER, &c.name)),
                    &c.output,
                )
            })
            .collect();
        if let Err(e) = emit::write_dirs(&jobs, a.force) {
            let path = e.path.display().to_string();
            let mut all = diags;
            all.push(
                Diagnostic::error(format!("cannot write `{path}`: {}", e.message))
                    .at(Loc::file(&path))
                    .help("nothing was written: every output file is as it was"),
            );
            report(&all, fmt);
            return exit::ERROR;
        }
    }
    report(&diags, fmt);
    exit::OK
}

/// What a batch keeps of each compiled policy (the full pipeline state of
/// a thousand policies would cost hundreds of megabytes).
struct Done {
    name: String,
    origin: String,
    name_loc: Loc,
    output: emit::Output,
    diagnostics: Vec<Diagnostic>,
}

fn done(f: &Path, opts: &Options, annotate: bool) -> Result<Done, Vec<Diagnostic>> {
    let mut c = compile(&Input::File(f.to_path_buf()), opts)?;
    if annotate {
        let body = crate::explain::annotate::values_yaml(&c);
        if let Some(file) = c.output.files.iter_mut().find(|f| f.0 == "values.yaml") {
            file.1 = body;
        }
    }
    let origin = c.loaded.origin.clone();
    Ok(Done {
        name: c.loaded.policy.metadata.name.clone(),
        name_loc: c
            .loaded
            .prov
            .loc("/metadata/name")
            .unwrap_or_else(|| Loc::file(&origin)),
        origin,
        diagnostics: c.plan.diagnostics,
        output: c.output,
    })
}

/// Policy files named on the command line, directories expanded to the
/// `*.yaml` / `*.yml` files directly inside them (sorted; hidden files skipped).
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostic> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let name = p.display().to_string();
        let cannot = |e: std::io::Error| {
            Diagnostic::error(format!("cannot read directory `{name}`: {e}")).at(Loc::file(&name))
        };
        let mut found = Vec::new();
        for entry in std::fs::read_dir(p).map_err(cannot)? {
            let path = entry.map_err(cannot)?.path();
            if is_policy_file(&path) {
                found.push(path);
            }
        }
        if found.is_empty() {
            return Err(Diagnostic::error(format!("`{name}` holds no policy files"))
                .at(Loc::file(&name))
                .help("expected *.yaml or *.yml files directly inside it"));
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

fn is_policy_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    !name.starts_with('.') && (name.ends_with(".yaml") || name.ends_with(".yml")) && path.is_file()
}

/// Compiles every file, on as many threads as there are cores; results
/// keep the order of `files`.
fn compile_all(
    files: &[PathBuf],
    opts: &Options,
    annotate: bool,
) -> Vec<Result<Done, Vec<Diagnostic>>> {
    par::map(files, par::cores(), |f| done(f, opts, annotate))
}

/// One error per policy whose `metadata.name` an earlier policy already uses.
fn duplicate_names(compiled: &[Done]) -> Vec<Diagnostic> {
    let mut first: std::collections::BTreeMap<&str, &Done> = std::collections::BTreeMap::new();
    let mut errors = Vec::new();
    for c in compiled {
        match first.get(c.name.as_str()) {
            None => {
                first.insert(&c.name, c);
            }
            Some(earlier) => errors.push(
                Diagnostic::error(format!("`{}` and `{}` are both named `{}`", earlier.origin, c.origin, c.name))
                    .at(c.name_loc.clone())
                    .related(earlier.name_loc.clone())
                    .help("each policy of a batch needs its own metadata.name (it names the output directory)"),
            ),
        }
    }
    errors
}

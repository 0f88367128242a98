//! Many policies in one run: directories expanded to their policy files,
//! compiled in parallel, names checked for duplicates, all or nothing.

use std::path::{Path, PathBuf};

use super::{Options, compile};
use crate::diag::{Diagnostic, Loc, Severity};
use crate::emit;
use crate::par;
use crate::parse::Input;

/// Stands for each policy's `metadata.name` in the output directory.
pub const NAME_PLACEHOLDER: &str = "{name}";

/// What to compile and how its diagnostics are filtered.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Policy files, or directories whose `*.yaml` / `*.yml` files are each a policy.
    pub policies: Vec<PathBuf>,
    /// Output directory, where [`NAME_PLACEHOLDER`] stands for each policy's
    /// name; `None` for one stream.
    pub output_dir: Option<String>,
    pub options: Options,
    /// Warnings count as errors.
    pub deny_warnings: bool,
    /// Errors only: warnings and notes are dropped.
    pub quiet: bool,
    /// Each value's policy field, line and control as a comment in values.yaml.
    pub annotate: bool,
}

/// What a batch keeps of each compiled policy (the full pipeline state of
/// a thousand policies would cost hundreds of megabytes).
#[derive(Debug, Clone)]
pub struct Done {
    pub name: String,
    pub origin: String,
    pub name_loc: Loc,
    pub output: emit::Output,
    pub diagnostics: Vec<Diagnostic>,
}

/// A batch where every policy compiled: its outputs, in the order of the
/// files, and the warnings and notes to show.
#[derive(Debug, Clone)]
pub struct Batch {
    pub compiled: Vec<Done>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Batch {
    /// Each policy's output directory (with `{name}` replaced), and its output.
    pub fn jobs(&self, output_dir: &str) -> Vec<(PathBuf, &emit::Output)> {
        self.compiled
            .iter()
            .map(|c| {
                (
                    PathBuf::from(output_dir.replace(NAME_PLACEHOLDER, &c.name)),
                    &c.output,
                )
            })
            .collect()
    }

    /// Every output as one YAML stream.
    pub fn stream(&self) -> String {
        let text: Vec<String> = self
            .compiled
            .iter()
            .map(|c| emit::stream(&c.output))
            .collect();
        text.join("---\n")
    }
}

/// Compiles every policy of the request. On failure returns the
/// diagnostics to show, errors among them, ending with a note saying why
/// nothing is written.
pub fn run(req: &Request) -> Result<Batch, Vec<Diagnostic>> {
    let files = expand(&req.policies).map_err(|d| vec![d])?;
    if let Some(out) = &req.output_dir
        && files.len() > 1
        && !out.contains(NAME_PLACEHOLDER)
    {
        let d = Diagnostic::error(format!(
            "{} policies would all be written to `{out}`",
            files.len()
        ))
        .help(format!(
            "put `{NAME_PLACEHOLDER}` in --output, e.g. `-o {}/{NAME_PLACEHOLDER}`",
            out.trim_end_matches('/')
        ));
        return Err(vec![d]);
    }
    let results = compile_all(&files, &req.options, req.annotate);

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
    let mut diags: Vec<Diagnostic> = diags
        .into_iter()
        .filter(|d| !req.quiet || d.severity == Severity::Error)
        .map(|mut d| {
            if req.deny_warnings && d.severity == Severity::Warning {
                d.severity = Severity::Error;
            }
            d
        })
        .collect();
    if diags.iter().any(Diagnostic::is_error) {
        if req.deny_warnings && compiled.len() == files.len() {
            diags.push(Diagnostic::note(
                "nothing written: --deny-warnings turns warnings into errors",
            ));
        } else if files.len() > 1 {
            diags.push(Diagnostic::note(format!(
                "nothing written: a batch is written only when all {} policies compile",
                files.len()
            )));
        }
        return Err(diags);
    }
    Ok(Batch {
        compiled,
        diagnostics: diags,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_its_policy_files_sorted_and_an_empty_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["b.yaml", "a.yml", ".hidden.yaml", "notes.txt"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub.yaml")).unwrap();
        let named = PathBuf::from("given.yaml");
        let got = expand(&[named.clone(), dir.path().to_path_buf()]).unwrap();
        assert_eq!(
            got,
            [named, dir.path().join("a.yml"), dir.path().join("b.yaml")]
        );

        let empty = tempfile::tempdir().unwrap();
        let e = expand(&[empty.path().to_path_buf()]).unwrap_err();
        assert!(
            e.message.ends_with("holds no policy files"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_name_used_twice_is_an_error_at_the_second_policy_pointing_at_the_first() {
        let done = |origin: &str, name: &str, line: u32| Done {
            name: name.into(),
            origin: origin.into(),
            name_loc: Loc {
                line,
                ..Loc::file(origin)
            },
            output: emit::Output {
                header: String::new(),
                files: Vec::new(),
            },
            diagnostics: Vec::new(),
        };
        let errors = duplicate_names(&[
            done("a.yaml", "hub", 3),
            done("b.yaml", "other", 3),
            done("c.yaml", "hub", 4),
        ]);
        assert_eq!(errors.len(), 1);
        let e = &errors[0];
        assert_eq!(e.message, "`a.yaml` and `c.yaml` are both named `hub`");
        assert_eq!(
            e.location.as_ref().map(|l| (l.file.as_str(), l.line)),
            Some(("c.yaml", 4))
        );
    }

    #[test]
    fn a_batch_written_to_one_directory_is_refused_before_compiling() {
        let req = Request {
            policies: vec!["missing-a.yaml".into(), "missing-b.yaml".into()],
            output_dir: Some("out".into()),
            ..Request::default()
        };
        let errors = run(&req).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].message,
            "2 policies would all be written to `out`"
        );
    }
}

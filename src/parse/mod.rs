//! Stage 1 — parse: read a policy file and everything it `extends`, check
//! each file against the policy schema, and merge the chain into one typed
//! [`Policy`] with the [`Provenance`] of every setting.
//!
//! Every error in a file is reported together; nothing is merged until all
//! files of the chain are valid on their own.

mod read;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::Validator;

use serde_json::Value;

pub use read::{decode, read_text, read_values_yaml, read_yaml};

use crate::diag::{Diagnostic, Loc, suggest};
use crate::policy::merge::{Provenance, Source, merge};
use crate::policy::{Policy, presets, schema};
use crate::validate::schema_check;

/// Longest `extends` chain accepted (a guard against runaway chains).
const MAX_CHAIN: usize = 16;

/// A policy with its parent chain merged in.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub policy: Policy,
    pub prov: Provenance,
    /// The merged parent, for reporting settings a child weakens.
    pub parent: Option<Box<Loaded>>,
    /// The path or preset name the policy was loaded from, as given.
    pub origin: String,
}

/// Where a policy comes from.
#[derive(Debug, Clone)]
pub enum Input {
    File(PathBuf),
    /// Policy text given directly (e.g. Terraform's `policy_yaml`); `base`
    /// is the directory relative `extends` paths resolve against.
    Inline {
        name: String,
        text: String,
        base: PathBuf,
    },
    Preset(String),
}

/// Where [`Input::File`] paths, and the relative `extends` paths inside
/// them, are read from: the file system, or another store such as a git
/// revision (`diff --base-ref`).
pub trait Files {
    /// The text of the file at `path`.
    fn read(&self, path: &Path) -> Result<String, Diagnostic>;
    /// How the file is named in messages and provenance.
    fn name(&self, path: &Path) -> String {
        path.display().to_string()
    }
    /// A key that is equal for two paths naming the same file (cycle detection).
    fn identity(&self, path: &Path) -> String {
        self.name(path)
    }
}

/// The file system.
pub struct Disk;

impl Files for Disk {
    fn read(&self, path: &Path) -> Result<String, Diagnostic> {
        read_text(path)
    }
    fn identity(&self, path: &Path) -> String {
        std::fs::canonicalize(path)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| self.name(path))
    }
}

/// Loads and merges a policy chain.
pub fn load(input: &Input) -> Result<Loaded, Vec<Diagnostic>> {
    load_from(input, &Disk)
}

/// Like [`load`], reading policy files from `files`.
pub fn load_from(input: &Input, files: &dyn Files) -> Result<Loaded, Vec<Diagnostic>> {
    prewarm();
    let mut seen = Vec::new();
    load_inner(input, files, &mut seen)
}

/// The validator of policy files, built once per process.
fn file_validator() -> Result<&'static Validator, Vec<Diagnostic>> {
    static FILE_VALIDATOR: OnceLock<Result<Validator, String>> = OnceLock::new();
    cached(&FILE_VALIDATOR, schema::file())
}

/// Starts building the file validator on a second thread, once per process:
/// it costs more than reading and merging a whole chain, which goes on
/// meanwhile (a one-policy `compile` is mostly process start and this).
fn prewarm() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        // Without a thread (resource limits), the first check builds it.
        let _ = std::thread::Builder::new()
            .name("schema".into())
            .spawn(|| drop(file_validator()));
    });
}

fn load_inner(
    input: &Input,
    files: &dyn Files,
    seen: &mut Vec<String>,
) -> Result<Loaded, Vec<Diagnostic>> {
    // A preset is fixed text, so its loaded chain is too: load it once per
    // process (batch runs would otherwise load it for every policy). Only
    // from outside the preset chains, so cycle and length checks stay exact.
    if let Input::Preset(p) = input
        && !seen.iter().any(|s| s.starts_with("preset:"))
    {
        static PRESETS: Mutex<BTreeMap<String, Loaded>> = Mutex::new(BTreeMap::new());
        let hit = PRESETS.lock().ok().and_then(|c| c.get(p).cloned());
        if let Some(l) = hit.filter(|l| seen.len() + chain_len(l) <= MAX_CHAIN) {
            return Ok(l);
        }
        let l = load_uncached(input, files, seen)?;
        if let Ok(mut c) = PRESETS.lock() {
            c.insert(p.clone(), l.clone());
        }
        return Ok(l);
    }
    load_uncached(input, files, seen)
}

/// Number of files in a loaded chain.
fn chain_len(l: &Loaded) -> usize {
    1 + l.parent.as_deref().map_or(0, chain_len)
}

fn load_uncached(
    input: &Input,
    files: &dyn Files,
    seen: &mut Vec<String>,
) -> Result<Loaded, Vec<Diagnostic>> {
    let (name, preset, text, base_dir) = match input {
        Input::File(path) => {
            let text = files.read(path).map_err(|d| vec![d])?;
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (files.name(path), None, text, dir)
        }
        Input::Inline { name, text, base } => (name.clone(), None, text.clone(), base.clone()),
        Input::Preset(p) => {
            let text = presets::get(p)
                .ok_or_else(|| vec![Diagnostic::error(format!("unknown preset `{p}`"))])?;
            (
                format!("preset:{p}"),
                Some(p.clone()),
                text.to_string(),
                PathBuf::new(),
            )
        }
    };
    let identity = match input {
        Input::File(p) => files.identity(p),
        _ => name.clone(),
    };
    if seen.contains(&identity) {
        let chain = seen
            .iter()
            .chain(std::iter::once(&identity))
            .cloned()
            .collect::<Vec<_>>()
            .join(" → ");
        return Err(vec![Diagnostic::error(format!(
            "`extends` forms a cycle: {chain}"
        ))]);
    }
    if seen.len() >= MAX_CHAIN {
        return Err(vec![
            Diagnostic::error(format!("`extends` chain is longer than {MAX_CHAIN} files"))
                .at(Loc::file(&name)),
        ]);
    }
    seen.push(identity);

    let doc = read_yaml(&name, &text).map_err(|d| vec![d])?;
    let mut parent_input = match doc.value.get("extends").and_then(Value::as_str) {
        Some(ext) => Some(resolve_extends(ext, &base_dir).map_err(|d| {
            vec![d.at_opt(Some(Loc::new(&name, &text, doc.spans.locate("/extends"))))]
        })),
        None if preset.as_deref() == Some(presets::DEFAULT_PARENT) => None,
        None => Some(Ok(Input::Preset(presets::DEFAULT_PARENT.to_string()))),
    };
    // A preset parent (no I/O) loads before this file is checked, while the
    // validator may still be under construction (`prewarm`); a file parent
    // is read only once this file is valid. This file's errors come first.
    let mut load_parent =
        |pi: Result<Input, Vec<Diagnostic>>| pi.and_then(|pi| load_inner(&pi, files, seen));
    let early = matches!(parent_input, Some(Ok(Input::Preset(_))));
    let mut parent = if early {
        parent_input.take().map(&mut load_parent)
    } else {
        None
    };
    // Presets are compiled in and checked by a test; only files are checked here.
    if preset.is_none() {
        let errors = schema_check::check(file_validator()?, schema::file(), &doc, &name, &text);
        if !errors.is_empty() {
            return Err(errors);
        }
    }
    if !early {
        parent = parent_input.map(load_parent);
    }

    let source = Source {
        name: name.clone(),
        preset,
        text: Arc::from(text.as_str()),
        spans: doc.spans.clone(),
    };
    let (merged, prov, parent) = match parent {
        None => {
            let mut prov = Provenance::default();
            let idx = prov.add_source(source);
            prov.record_all(&doc.value, "", idx);
            (doc.value.clone(), prov, None)
        }
        Some(parent) => {
            let parent = parent?;
            let mut prov = parent.prov.clone();
            let idx = prov.add_source(source);
            let mut merged = serde_json::to_value(&parent.policy)
                .map_err(|e| vec![Diagnostic::error(e.to_string())])?;
            merge(&mut merged, &doc.value, idx, &mut prov);
            (merged, prov, Some(Box::new(parent)))
        }
    };

    let policy = complete(&merged, &prov, &name)?;
    Ok(Loaded {
        policy,
        prov,
        parent,
        origin: name,
    })
}

/// Checks that the merged chain is a complete policy and types it.
fn complete(merged: &Value, prov: &Provenance, name: &str) -> Result<Policy, Vec<Diagnostic>> {
    // Every file was checked against the schema already, so a merged policy
    // that types is complete; the schema (costly to build) is needed only to
    // say where an incomplete one falls short.
    let e = match serde_json::from_value::<Policy>(merged.clone()) {
        Ok(p) => return Ok(p),
        Err(e) => e,
    };
    let full = schema::complete();
    static COMPLETE_VALIDATOR: OnceLock<Result<Validator, String>> = OnceLock::new();
    let validator = cached(&COMPLETE_VALIDATOR, full)?;
    let missing: Vec<Diagnostic> = validator
        .iter_errors(merged)
        .map(|e| {
            let ptr = e.instance_path().as_str().to_string();
            Diagnostic::error(format!(
                "the merged policy is incomplete at `{}`: {}",
                crate::paths::dotted(&ptr),
                e.masked()
            ))
            .at_opt(prov.loc(&ptr).or_else(|| Some(Loc::file(name))))
        })
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    Err(vec![
        Diagnostic::error(format!("the merged policy does not fit the language: {e}"))
            .at(Loc::file(name)),
    ])
}

/// A validator for one of the policy schemas, built once per process
/// (building one costs far more than checking a policy with it).
fn cached(
    cell: &'static OnceLock<Result<Validator, String>>,
    schema: &'static Value,
) -> Result<&'static Validator, Vec<Diagnostic>> {
    cell.get_or_init(|| schema_check::validator(schema))
        .as_ref()
        .map_err(|e| vec![Diagnostic::error(e.clone())])
}

fn resolve_extends(ext: &str, base: &Path) -> Result<Input, Diagnostic> {
    let looks_like_path = ext.contains('/') || ext.ends_with(".yaml") || ext.ends_with(".yml");
    if !looks_like_path {
        return match presets::get(ext) {
            Some(_) => Ok(Input::Preset(ext.to_string())),
            None => {
                let mut d = Diagnostic::error(format!("unknown preset `{ext}` in `extends`"));
                d = match suggest(ext, presets::names()) {
                    Some(s) => d.help(format!(
                        "did you mean `{s}`? (a file path must end in .yaml or contain `/`)"
                    )),
                    None => d.help(format!(
                        "presets are: {}; a file path must end in .yaml or contain `/`",
                        presets::names().collect::<Vec<_>>().join(", ")
                    )),
                };
                Err(d)
            }
        };
    }
    if base.as_os_str().is_empty() && Path::new(ext).is_relative() && !Path::new(ext).exists() {
        // Presets cannot extend files.
        return Err(Diagnostic::error(format!(
            "cannot resolve `extends: {ext}`"
        )));
    }
    Ok(Input::File(base.join(ext)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_passes_the_file_schema() {
        // Presets skip the check at load time; this is where they get it.
        let validator = file_validator().unwrap();
        for name in presets::names() {
            let text = presets::get(name).unwrap();
            let doc = read_yaml(name, text).unwrap();
            let errors = schema_check::check(validator, schema::file(), &doc, name, text);
            assert!(errors.is_empty(), "preset {name}: {errors:#?}");
        }
    }

    #[test]
    fn presets_load_and_restricted_inherits_baseline() {
        let l = load(&Input::Preset("restricted".into())).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(l.policy.metadata.name, "restricted");
        assert_eq!(
            l.prov.preset("/spec/cloudMetadata/mode"),
            Some("restricted")
        );
        assert_eq!(l.prov.preset("/spec/cloudMetadata/ip"), Some("baseline"));
        assert!(l.parent.is_some());
    }

    #[test]
    fn every_error_of_a_file_is_reported() {
        let text = "apiVersion: z2jh-policy/v1\nkind: HubPolicy\nmetadata: {name: Bad_Name, namespace: jhub}\nspec:\n  egres: {}\n  cloudMetadata: {mode: block}\n  egress: {allow: [{cidr: 10.0.0.0/33}]}\n";
        let errs = load(&Input::Inline {
            name: "p.yaml".into(),
            text: text.into(),
            base: PathBuf::new(),
        })
        .unwrap_err();
        let msgs: Vec<String> = errs
            .iter()
            .map(|d| {
                format!(
                    "{}:{} {}",
                    d.location.as_ref().unwrap().line,
                    d.location.as_ref().unwrap().column,
                    d.message
                )
            })
            .collect();
        assert_eq!(msgs.len(), 4, "{msgs:#?}");
        assert!(
            msgs[0].starts_with("3:18 invalid `metadata.name`"),
            "{msgs:#?}"
        );
        assert!(msgs[1].starts_with("5:3 unknown key `egres`"), "{msgs:#?}");
        assert!(
            msgs[2].starts_with("6:25 `block` is not a valid `spec.cloudMetadata.mode`"),
            "{msgs:#?}"
        );
        assert!(msgs[3].contains("spec.egress.allow[0].cidr"), "{msgs:#?}");
        assert_eq!(errs[1].help.as_deref(), Some("did you mean `egress`?"));
    }
}

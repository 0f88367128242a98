//! `init --from VALUES...`: a policy that reproduces the security settings
//! of existing values as closely as the language allows.
//!
//! Input: values files (merged like Helm, over the chart defaults or the
//! `baseline` preset's values). Output: the policy as YAML — `extends:` the
//! closest preset plus only the fields that differ from it — and the list of
//! what could not be expressed, which also heads the file as comments.
//!
//! Every control proposes its own fields from its read-back
//! ([`crate::controls::Control::propose`]); the result is loaded, lowered and
//! checked against the same values before it is returned.

use serde_json::{Map, Value, json};

use crate::assess::{Installed, Reference, Scope, assess, security_overrides, without_profiles};
use crate::controls::{ALL, ReadBack};
use crate::diag::Diagnostic;
use crate::parse::{Input, load};
use crate::policy::{Policy, presets};

/// Choices the values cannot supply.
#[derive(Debug, Clone)]
pub struct Options {
    pub name: String,
    pub namespace: String,
    /// Where the editor finds the policy schema (the modeline's target).
    pub schema: String,
}

/// A proposed policy.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub preset: String,
    /// The policy file's full text.
    pub text: String,
    /// What the policy cannot say about the values.
    pub unexpressed: Vec<String>,
    /// What compiling the policy would change: values keys it writes with
    /// another value, and fields of manifests given that it emits anew.
    pub changes: Vec<String>,
}

struct Candidate {
    preset: &'static str,
    doc: Value,
    lost: Vec<String>,
    /// Controls that said what they could not express: `check` may find
    /// what they listed.
    lossy: Vec<&'static str>,
    score: usize,
}

/// Proposes a policy for the installed values.
pub fn propose(installed: &Installed, opts: &Options) -> Result<Proposal, Vec<Diagnostic>> {
    let merged = installed.merged();
    // The policy states what every user gets: the pod without a profile.
    // What profiles change is listed as not expressed, and `check` of the
    // proposal reports it.
    let base = without_profiles(&merged);
    let view = installed.view(&base);
    let full = installed.view(&merged);
    let mut best: Option<Candidate> = None;
    for preset in presets::names() {
        let loaded = load(&Input::Preset(preset.into()))?;
        let parent = loaded.policy.clone();
        let mut p = parent.clone();
        p.metadata.name = opts.name.clone();
        p.metadata.namespace = opts.namespace.clone();
        if let Some(v) = &installed.chart_version {
            p.chart = v.clone();
        }
        let mut lost = Vec::new();
        let mut lossy = Vec::new();
        for c in ALL {
            let def = c.def();
            let view = if c.reads_profiles() { &full } else { &view };
            let judged = c.judge(view);
            if let ReadBack::CannotVerify { reason } = &judged.read_back {
                lost.push(format!(
                    "`{}` cannot be read from the values ({reason}); `{}` stays `{}` as in preset `{preset}`",
                    def.id,
                    def.dotted_field(),
                    def.setting(&c.selected(&p)).name
                ));
            } else if let Some((reason, by)) = &judged.unverified {
                lost.push(format!(
                    "`{}` cannot be read from the values alone ({reason}: {}); the proposal follows the values",
                    def.id,
                    by.describe()
                ));
            }
            let said = c.propose(view, &mut p);
            if !said.is_empty() || weakened_by_profiles(*c, view, &full) {
                lossy.push(def.id);
            }
            lost.extend(said);
        }
        let (doc, removed) = document(&p, &parent, preset)?;
        for r in &removed {
            lost.push(format!(
                "`{r}` is set by preset `{preset}` and a child policy cannot unset it"
            ));
        }
        // Fewest fields that cannot be unset first, then the shortest policy.
        let score = removed.len() * 1000 + leaves(&doc["spec"]);
        if best.as_ref().is_none_or(|b| score < b.score) {
            best = Some(Candidate {
                preset,
                doc,
                lost,
                lossy,
                score,
            });
        }
    }
    let Some(best) = best else {
        return Err(vec![Diagnostic::error("no preset to start from")]);
    };
    let mut unexpressed = best.lost;
    for (label, name) in security_overrides(&merged) {
        unexpressed.push(format!(
            "{label} overrides `{name}`; per-profile settings are outside the language (the policy states the pod without a profile; `check` reports what the profile weakens)"
        ));
    }
    if let Some(code) = merged
        .pointer("/hub/extraConfig")
        .and_then(Value::as_object)
    {
        let keys: Vec<&str> = code
            .keys()
            .map(String::as_str)
            .filter(|k| *k != crate::controls::IDENTITY_KEY)
            .collect();
        if !keys.is_empty() {
            unexpressed.push(format!(
                "hub.extraConfig ({}) runs Python the policy cannot express; keep it in your values and review what it changes",
                keys.join(", ")
            ));
        }
    }
    // What compiling the proposal would write differently, from the policy
    // as it stands (the header comments do not change what it compiles to).
    let changes = changes(
        &render(&best.doc, &[], &[], installed, opts),
        installed,
        &merged,
    );
    let text = render(&best.doc, &unexpressed, &changes, installed, opts);
    verify(&text, installed, &best.lossy)?;
    Ok(Proposal {
        preset: best.preset.to_string(),
        text,
        unexpressed,
        changes,
    })
}

/// Profiles make the control weaker than the pod without one.
fn weakened_by_profiles(
    c: &dyn crate::controls::Control,
    base: &crate::controls::ValuesView,
    full: &crate::controls::ValuesView,
) -> bool {
    match (
        crate::controls::read_setting(c, base),
        crate::controls::read_setting(c, full),
    ) {
        (Some(b), Some(f)) => crate::controls::judge::weaker(c.def(), &b, &f),
        (Some(_), None) => true,
        _ => false,
    }
}

/// The policy document: header fields, `extends`, and the spec fields that
/// differ from the preset; also the preset's fields the policy lacks.
fn document(
    p: &Policy,
    parent: &Policy,
    preset: &str,
) -> Result<(Value, Vec<String>), Vec<Diagnostic>> {
    let to =
        |x: &Policy| serde_json::to_value(x).map_err(|e| vec![Diagnostic::error(e.to_string())]);
    let (mine, theirs) = (to(p)?, to(parent)?);
    let mut removed = Vec::new();
    let spec = diff(&mine["spec"], &theirs["spec"], "spec", &mut removed);
    let mut doc = Map::new();
    for k in ["apiVersion", "kind", "metadata"] {
        doc.insert(k.into(), mine[k].clone());
    }
    doc.insert("extends".into(), json!(preset));
    for k in ["chart", "kubernetesVersion"] {
        doc.insert(k.into(), mine[k].clone());
    }
    // Written only when stated (`unknown` is left out when serialized).
    if let Some(plugin) = mine.get("networkPlugin") {
        doc.insert("networkPlugin".into(), plugin.clone());
    }
    doc.insert("spec".into(), spec.unwrap_or_else(|| json!({})));
    Ok((Value::Object(doc), removed))
}

/// What `a` must say over `b` (maps merge, everything else replaces);
/// keys `b` has and `a` lacks go to `removed`.
fn diff(a: &Value, b: &Value, at: &str, removed: &mut Vec<String>) -> Option<Value> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut out = Map::new();
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => {
                        if let Some(d) = diff(v, w, &format!("{at}.{k}"), removed) {
                            out.insert(k.clone(), d);
                        }
                    }
                    None => {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
            removed.extend(
                y.keys()
                    .filter(|k| !x.contains_key(*k))
                    .map(|k| format!("{at}.{k}")),
            );
            (!out.is_empty()).then_some(Value::Object(out))
        }
        _ if a == b => None,
        _ => Some(a.clone()),
    }
}

fn leaves(v: &Value) -> usize {
    match v {
        Value::Object(m) => m.values().map(leaves).sum(),
        _ => 1,
    }
}

fn render(
    doc: &Value,
    unexpressed: &[String],
    changes: &[String],
    installed: &Installed,
    opts: &Options,
) -> String {
    let names = |files: &[String]| {
        files
            .iter()
            .map(|f| format!("`{}`", crate::emit::one_line(&f.replace(['\n', '\r'], " "))))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut manifests = installed.manifest_files.clone();
    manifests.dedup();
    let mut out = format!(
        "# yaml-language-server: $schema={}\n# Proposed by `z2jh-policy init` from {}{}.\n",
        crate::emit::one_line(&opts.schema.replace(['\n', '\r'], "")),
        names(&installed.file_names()),
        if manifests.is_empty() {
            String::new()
        } else {
            format!(" with the manifests {}", names(&manifests))
        }
    );
    let list = |out: &mut String, items: &[String]| {
        for u in items {
            out.push_str(&format!(
                "#   - {}\n",
                crate::emit::one_line(&u.replace(['\n', '\r'], " "))
            ));
        }
    };
    if unexpressed.is_empty() {
        out.push_str("# Everything security-relevant in the values is expressed below.\n");
    } else {
        out.push_str("# Not expressed (review before use):\n");
        list(&mut out, unexpressed);
    }
    if changes.is_empty() {
        out.push_str("# Compiling it writes the values these files hold.\n");
    } else {
        out.push_str("# Compiling it changes (review before use):\n");
        list(&mut out, changes);
    }
    out.push_str(&crate::yaml::to_string(doc));
    out
}

/// What compiling the proposal writes that the installed values (and the
/// manifests given) do not hold: each values key it sets to another value,
/// and each field of a given manifest it emits again with another value.
fn changes(text: &str, installed: &Installed, merged: &Value) -> Vec<String> {
    let Ok(c) = crate::compile::compile(
        &Input::Inline {
            name: "(proposed policy)".into(),
            text: text.to_string(),
            base: std::path::PathBuf::new(),
        },
        &crate::compile::Options {
            chart_version: installed.chart_version.clone(),
            ..Default::default()
        },
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut leaves = Vec::new();
    leaf_changes(&c.rendered.values, merged, &mut Vec::new(), &mut leaves);
    for (path, old, new) in leaves {
        out.push(format!(
            "`{}`: {} becomes {}",
            crate::paths::dotted_values_path(&path),
            shown(&old),
            shown(&new)
        ));
    }
    let given = installed.manifests.as_deref().unwrap_or_default();
    for m in &c.rendered.manifests {
        let Some(was) = given.iter().find(|g| same_object(g, &m.object)) else {
            continue;
        };
        let mut leaves = Vec::new();
        let mut object = m.object.clone();
        // The compiler's own labels say who manages the object, nothing more.
        if let Some(labels) = object
            .pointer_mut("/metadata/labels")
            .and_then(Value::as_object_mut)
        {
            labels.retain(|k, _| !k.starts_with("app.kubernetes.io/"));
        }
        leaf_changes(&object, was, &mut Vec::new(), &mut leaves);
        for (path, old, new) in leaves {
            out.push(format!(
                "{} (among the manifests given): `{}`: {} becomes {}",
                m.id(),
                crate::paths::dotted_values_path(&path),
                shown(&old),
                shown(&new)
            ));
        }
    }
    out
}

/// The same Kubernetes object: kind, namespace (when both say) and name.
fn same_object(a: &Value, b: &Value) -> bool {
    let s = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
    s(a, "/kind") == s(b, "/kind")
        && s(a, "/metadata/name") == s(b, "/metadata/name")
        && match (s(a, "/metadata/namespace"), s(b, "/metadata/namespace")) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
}

fn shown(v: &Value) -> String {
    match v {
        Value::Null => "unset".into(),
        other => format!("`{}`", serde_json::to_string(other).unwrap_or_default()),
    }
}

/// The leaves of `new` whose value `old` does not hold at the same path.
fn leaf_changes(
    new: &Value,
    old: &Value,
    at: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Value, Value)>,
) {
    match new {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                at.push(k.clone());
                leaf_changes(v, old.get(k).unwrap_or(&Value::Null), at, out);
                at.pop();
            }
        }
        _ => {
            let same = match (new, old) {
                (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
                (Value::Object(_), Value::Null) => true,
                _ => new == old,
            };
            if !same {
                out.push((at.clone(), old.clone(), new.clone()));
            }
        }
    }
}

/// The proposal must load, compile and pass `check` on the same values,
/// but for what the listed controls said they could not express.
fn verify(text: &str, installed: &Installed, lossy: &[&str]) -> Result<(), Vec<Diagnostic>> {
    let loaded = load(&Input::Inline {
        name: "(proposed policy)".into(),
        text: text.to_string(),
        base: std::path::PathBuf::new(),
    })?;
    let reference = Reference::new("(proposed policy)".into(), loaded)?;
    let report = assess("check", &reference, installed, Scope::Controls);
    let failed: Vec<Diagnostic> = report
        .findings
        .iter()
        .filter(|f| f.status != crate::assess::Status::CannotVerify)
        .filter(|f| !lossy.contains(&f.control))
        .map(|f| {
            Diagnostic::error(format!(
                "the proposed policy fails its own check: {}",
                f.message
            ))
            .help("this is a bug in z2jh-policy; please report it with the values files")
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_keeps_changes_and_reports_removals() {
        let mut removed = Vec::new();
        let d = diff(
            &json!({"a": {"x": 1, "y": 2}, "l": [1], "n": 3}),
            &json!({"a": {"x": 1, "y": 1, "z": 0}, "l": [1, 2], "n": 3}),
            "spec",
            &mut removed,
        );
        assert_eq!(d, Some(json!({"a": {"y": 2}, "l": [1]})));
        assert_eq!(removed, vec!["spec.a.z".to_string()]);
    }
}

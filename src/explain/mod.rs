//! Why each output is there: for every value and manifest a compiled policy
//! emits, the control, the policy field and line (and preset) that produced
//! it, the setting in force, and its rationale and trade-offs.
//!
//! Input: a [`Compiled`] policy. Output: [`Entry`] rows in emission order,
//! rendered as text or JSON; [`annotate`] writes the same provenance as
//! comments into `values.yaml`.

pub mod annotate;

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::compile::Compiled;
use crate::controls::by_id;
use crate::diag::{Diagnostic, Severity, suggest};
use crate::exceptions::Date;
use crate::paths::{dotted_values_path, values_path};
use crate::plan::Origin;

/// One emitted value or manifest and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// `value`, `manifest` or `validation`.
    pub kind: &'static str,
    /// Dotted values path (`[N]` for items of lists several controls fill),
    /// `Kind/name` (`Kind/namespace/name`) for a manifest, or
    /// `ValidatingAdmissionPolicy/name/validations/N` for one admission check.
    pub key: String,
    /// The emitted value (for a manifest, the object).
    pub value: Value,
    pub control: &'static str,
    pub title: &'static str,
    /// Policy field, the value it has, and where it was written.
    pub policy_field: String,
    pub policy_value: Value,
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    pub line: u32,
    /// The control's setting in force.
    pub setting: String,
    pub setting_summary: &'static str,
    pub rationale: String,
    /// Warnings the control reports for this policy: what it costs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tradeoffs: Vec<String>,
    /// Key path (values) used for matching; not shown.
    #[serde(skip)]
    path: Vec<String>,
}

/// Where a setting was written, e.g. `(preset restricted, line 22)`.
pub fn provenance(o: &Origin) -> String {
    let what = match &o.preset {
        Some(p) => format!("preset {p}"),
        None => o.source.clone(),
    };
    if o.line > 0 {
        format!("({what}, line {})", o.line)
    } else {
        format!("({what})")
    }
}

/// A value on one line, long ones shortened.
pub fn compact(v: &Value) -> String {
    let s = match v {
        Value::String(s) if !s.contains('\n') && !s.is_empty() => s.clone(),
        other => other.to_string(),
    };
    let short: String = s.chars().take(100).collect();
    if short.len() < s.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// `spec.egress.allow[0].cidr` → `/spec/egress/allow/0/cidr`.
fn pointer_of(dotted: &str) -> String {
    dotted
        .replace('[', ".")
        .replace(']', "")
        .split('.')
        .filter(|s| !s.is_empty())
        .map(|s| format!("/{}", crate::paths::escape_pointer(s)))
        .collect()
}

/// Every emitted value and manifest, values first, in emission order.
pub fn entries(c: &Compiled) -> Vec<Entry> {
    let policy = serde_json::to_value(&c.loaded.policy).unwrap_or_default();
    let mut counts: Vec<(Vec<String>, usize)> = Vec::new();
    let mut out = Vec::new();
    let mut push = |kind, key: String, path: Vec<String>, value: Value, o: &Origin| {
        let Some(control) = by_id(o.control) else {
            return;
        };
        let def = control.def();
        let selected = c
            .plan
            .settings
            .iter()
            .find(|(id, _)| *id == def.id)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| control.selected(&c.loaded.policy));
        let setting = crate::controls::SettingView::of(def, &selected);
        out.push(Entry {
            kind,
            key,
            value,
            control: def.id,
            title: def.title,
            policy_field: o.field.clone(),
            policy_value: policy
                .pointer(&pointer_of(&o.field))
                .cloned()
                .unwrap_or(Value::Null),
            source: o.source.clone(),
            preset: o.preset.clone(),
            line: o.line,
            setting: setting.label(),
            setting_summary: def.setting(&selected).summary,
            rationale: def
                .rationale
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            tradeoffs: tradeoffs(c.diagnostics(), def.id),
            path,
        });
    };
    for e in &c.plan.values {
        let mut path = e.path.clone();
        if e.append {
            let n = match counts.iter_mut().find(|(p, _)| *p == e.path) {
                Some((_, n)) => {
                    *n += 1;
                    *n - 1
                }
                None => {
                    counts.push((e.path.clone(), 1));
                    0
                }
            };
            path.push(n.to_string());
        }
        push(
            "value",
            dotted_values_path(&path),
            path,
            e.value.clone(),
            &e.origin,
        );
    }
    let stated = crate::admission::validations(&c.loaded.policy);
    for m in &c.rendered.manifests {
        push("manifest", m.id(), Vec::new(), m.object.clone(), &m.origin);
        // Each admission check under the control (and field) that states it.
        let checks = m
            .object
            .pointer("/spec/validations")
            .and_then(Value::as_array);
        for (i, v) in checks.into_iter().flatten().enumerate() {
            let Some(s) = stated.iter().find(|s| {
                v["expression"] == s.validation.expression.as_str()
                    && v["message"] == s.message().as_str()
            }) else {
                continue;
            };
            let src = c.loaded.prov.source(s.validation.field);
            let origin = Origin {
                control: s.control.id,
                field: crate::paths::dotted(s.validation.field),
                source: src.map(|s| s.name.clone()).unwrap_or_default(),
                preset: src.and_then(|s| s.preset.clone()),
                line: c.loaded.prov.line(s.validation.field).unwrap_or(0),
            };
            let key = format!("{}/validations/{i}", m.id());
            push("validation", key, Vec::new(), v.clone(), &origin);
        }
    }
    out
}

/// The control's warnings, and the notes of its exceptions (so `explain
/// KEY` shows an exception beside the values it concerns).
fn tradeoffs(diags: &[Diagnostic], control: &str) -> Vec<String> {
    diags
        .iter()
        .filter(|d| {
            d.control == Some(control)
                && (d.severity == Severity::Warning
                    || (d.severity == Severity::Note && d.message.starts_with("exception: ")))
        })
        .map(|d| d.message.clone())
        .collect()
}

/// Entries for `key`: a values path (exact, a subtree, or a key inside an
/// emitted value) or a manifest (`Kind/name`, `Kind/namespace/name`, or
/// `Kind`). An unknown key is an error with the closest known one.
pub fn select(all: Vec<Entry>, key: &str) -> Result<Vec<Entry>, Diagnostic> {
    let want = values_path(key);
    let hit = |e: &Entry| {
        if e.kind == "validation" {
            let kind = e.key.split('/').next().unwrap_or_default();
            key == e.key || key == kind || e.key.starts_with(&format!("{key}/"))
        } else if e.kind == "manifest" {
            let mut parts = e.key.split('/');
            let kind = parts.next().unwrap_or_default();
            let name = e.key.rsplit('/').next().unwrap_or_default();
            key == e.key || key == kind || key == format!("{kind}/{name}")
        } else {
            let n = want.len().min(e.path.len());
            n > 0 && want[..n] == e.path[..n]
        }
    };
    let picked: Vec<Entry> = all.iter().filter(|e| hit(e)).cloned().collect();
    if !picked.is_empty() {
        return Ok(picked);
    }
    let mut known: Vec<String> = Vec::new();
    for e in &all {
        if e.kind != "value" {
            known.push(e.key.clone());
        } else {
            for n in 1..=e.path.len() {
                known.push(dotted_values_path(&e.path[..n]));
            }
        }
    }
    known.sort();
    known.dedup();
    let d = Diagnostic::error(format!(
        "`{key}` is not a value or manifest this policy emits"
    ));
    Err(match suggest(key, known.iter().map(String::as_str)) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help(
            "run `z2jh-policy explain POLICY` without a key to list everything the policy emits",
        ),
    })
}

/// The listing for people.
pub fn text(entries: &[Entry]) -> String {
    let mut out = String::new();
    for e in entries {
        let shown = if e.kind == "manifest" {
            format!("{} (manifest)", e.key)
        } else if e.kind == "validation" {
            format!(
                "{} (validation): {}",
                e.key,
                e.value["message"].as_str().unwrap_or_default()
            )
        } else {
            format!("{}: {}", e.key, compact(&e.value))
        };
        let from = provenance(&Origin {
            control: e.control,
            field: e.policy_field.clone(),
            source: e.source.clone(),
            preset: e.preset.clone(),
            line: e.line,
        });
        let _ = writeln!(out, "{shown}");
        let _ = writeln!(out, "  control:   {} — {}", e.control, e.title);
        let _ = writeln!(
            out,
            "  policy:    {}: {} {from}",
            e.policy_field,
            compact(&e.policy_value)
        );
        let _ = writeln!(out, "  setting:   {} — {}", e.setting, e.setting_summary);
        let _ = writeln!(out, "  why:       {}", e.rationale);
        for t in &e.tradeoffs {
            let _ = writeln!(out, "  trade-off: {t}");
        }
        out.push('\n');
    }
    out
}

/// The policy's exceptions as of `today`: control, scope, allowed
/// setting, reason, owner, expiry and days left.
pub fn exceptions(c: &Compiled, today: Date) -> Vec<crate::exceptions::View> {
    crate::exceptions::listed(&c.loaded.policy)
        .iter()
        .map(|l| l.view(Some(today)))
        .collect()
}

/// [`exceptions`] for people; empty when there are none.
pub fn exceptions_text(views: &[crate::exceptions::View]) -> String {
    let mut out = String::new();
    for e in views {
        let _ = writeln!(out, "exception: {} for {}", e.control, e.scope);
        let _ = writeln!(out, "  allow:     {}", e.allow);
        let _ = writeln!(out, "  reason:    {}", e.reason);
        let _ = writeln!(out, "  owner:     {}", e.owner);
        let when = crate::exceptions::left(e.days_left.unwrap_or_default());
        let _ = writeln!(out, "  expires:   {} ({when})", e.expires);
        out.push('\n');
    }
    out
}

pub fn json(c: &Compiled, entries: &[Entry], today: Date) -> String {
    let mut v = serde_json::json!({
        "policy": c.loaded.origin,
        "chart": c.loaded.policy.chart,
        "entries": entries,
    });
    let ex = exceptions(c, today);
    if !ex.is_empty() {
        v["exceptions"] = serde_json::json!(ex);
    }
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_from_dotted_fields() {
        assert_eq!(
            pointer_of("spec.egress.allow[0].cidr"),
            "/spec/egress/allow/0/cidr"
        );
        assert_eq!(pointer_of("spec.networkPolicy"), "/spec/networkPolicy");
    }
}

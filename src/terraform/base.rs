//! `base_values`: the user's own values file combined with the policy's
//! values, checked against a chart, and read back to find what it weakens.
//!
//! Input: the base file, the compiled values (and optionally a chart
//! folder). Output: one values tree that Helm can take as a single values
//! file, the chart-schema errors of the result, and a warning for every
//! control the base puts below the policy's setting.
//!
//! Order: the base goes first and the policy's values over it, exactly like
//! `helm -f base.yaml -f policy-values.yaml`, so every key the policy sets
//! wins. Keys the policy leaves to the chart come from the base, which is why
//! the result is read back control by control.

use serde_json::{Map, Value, json};

use crate::chart::{ChartDir, ChartLine};
use crate::compile::Compiled;
use crate::controls::{ALL, ReadBack, ValuesView, judge};
use crate::diag::{Diagnostic, Loc};
use crate::validate::chart_values::{ValuesFile, locate_in};
use crate::validate::schema_check;
use crate::values::helm_merge;

/// Name under which the compiled values appear in messages.
pub const COMPILED_NAME: &str = "(policy values)";

/// Reads the base values file as every reader of deployed values does
/// (a file of only comments is `{}` to Helm).
pub fn read(path: &std::path::Path) -> Result<ValuesFile, Diagnostic> {
    crate::assess::read_values(path)
}

/// How Helm combines user values files before it applies them to the chart
/// defaults: mappings merge key by key, anything else in `over` (lists,
/// scalars and `null`) replaces. A `null` is kept, so it still deletes the
/// chart's default when Helm applies the result.
pub fn combine(base: &Value, over: &Value) -> Value {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            let mut out: Map<String, Value> = b.clone();
            for (k, v) in o {
                let merged = match out.get(k) {
                    Some(existing) if existing.is_object() && v.is_object() => combine(existing, v),
                    _ => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (_, o) => o.clone(),
    }
}

/// The values Helm would install: `values` applied to the chart defaults
/// (to `{}` when no chart is known), nulls removed.
pub fn effective(chart: Option<&ChartDir>, values: &Value) -> Value {
    let mut v = chart.map_or_else(|| json!({}), |c| c.defaults.clone());
    helm_merge(&mut v, values);
    v
}

/// Validates the combined values against the chart's schema; each error
/// points into the base file (or the compiled values) that set the key.
pub fn check_chart(chart: &ChartDir, combined: &Value, files: &[ValuesFile]) -> Vec<Diagnostic> {
    let validator = match chart.validator() {
        Ok(v) => v,
        Err(e) => {
            return vec![Diagnostic::error(format!(
                "chart {} {}: {e}",
                chart.name, chart.version
            ))];
        }
    };
    let full = effective(Some(chart), combined);
    let locate = |ptr: &str, key: bool| locate_in(files, ptr, key);
    schema_check::check_value(validator, &chart.schema, &full, &locate)
}

/// One warning for every control whose state in the merged values is
/// weaker than the policy's setting (or no longer verifiable), where the
/// policy's values alone were not: that difference comes from the base.
pub fn weakenings(
    compiled: &Compiled,
    chart: Option<&ChartDir>,
    alone: &Value,
    merged: &Value,
    base_name: &str,
) -> Vec<Diagnostic> {
    let policy = &compiled.loaded.policy;
    let manifests = compiled.rendered.manifest_objects();
    let null = Value::Null;
    let defaults = chart.map_or(&null, |c| &c.defaults);
    let (alone, merged) = (effective(chart, alone), effective(chart, merged));
    let view = |values| ValuesView {
        values,
        defaults,
        manifests: Some(&manifests),
        chart: ChartLine::of(&policy.chart),
        more: Default::default(),
    };
    let (alone_view, merged_view) = (view(&alone), view(&merged));
    let mut out = Vec::new();
    for control in ALL {
        let def = control.def();
        let wanted = control.selected(policy);
        let want = def.setting(&wanted);
        let before = control.read_back(&alone_view);
        let after = control.read_back(&merged_view);
        let warning = match (&before, &after) {
            (_, ReadBack::Setting(got))
                if !judge::meets(def, &wanted, got)
                    && match &before {
                        ReadBack::Setting(b) => judge::weaker(def, b, got),
                        ReadBack::CannotVerify { .. } => true,
                    } =>
            {
                let detail = got
                    .detail
                    .as_ref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                if control.hides_values() {
                    // `values_yaml` would carry them into plans and the state.
                    out.push(
                        Diagnostic::error(format!(
                            "the base values write credentials into `values_yaml`{detail}, which Terraform shows in plans and keeps in its state; the policy's `{}` is `{}`",
                            def.dotted_field(),
                            want.name,
                        ))
                        .control(def.id)
                        .at(Loc::file(base_name))
                        .help("pass them to `helm_release` with `set_sensitive`, or reference a Secret (`hub.existingSecret`, `valueFrom.secretKeyRef`)"),
                    );
                    continue;
                }
                Diagnostic::warning(format!(
                    "the base values weaken `{}` from `{}` (the policy's `{}`) to `{}`{detail}",
                    def.id,
                    want.name,
                    def.dotted_field(),
                    def.setting(got).name,
                ))
            }
            (ReadBack::Setting(b), ReadBack::CannotVerify { reason })
                if judge::meets(def, &wanted, b) =>
            {
                Diagnostic::warning(format!(
                    "the base values make `{}` unverifiable: {reason}",
                    def.id
                ))
            }
            _ => continue,
        };
        let mut d = warning
            .control(def.id)
            .at(Loc::file(base_name))
            .help("the policy's values win only for keys the policy sets; remove the setting from the base values");
        if let Some(l) = compiled.loaded.prov.loc(def.field) {
            d = d.related(l);
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_follows_helm_for_user_files() {
        let base = json!({"a": {"x": 1, "y": [1, 2]}, "b": "keep", "c": {"gone": true}});
        let over = json!({"a": {"y": [3], "z": null}, "c": null});
        assert_eq!(
            combine(&base, &over),
            json!({"a": {"x": 1, "y": [3], "z": null}, "b": "keep", "c": null})
        );
        // The policy's null wins over a base value, and survives to delete the chart default.
        assert_eq!(
            combine(&json!({"s": {"sa": "x"}}), &json!({"s": {"sa": null}})),
            json!({"s": {"sa": null}})
        );
    }

    #[test]
    fn a_comment_only_base_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("base.yaml");
        std::fs::write(&p, "# nothing yet\n").unwrap();
        assert_eq!(read(&p).unwrap().doc.value, json!({}));
        std::fs::write(&p, "- a list\n").unwrap();
        assert!(read(&p).unwrap_err().message.contains("must be a mapping"));
    }
}

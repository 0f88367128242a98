//! Values keys the target chart release does not accept. A hardening extra
//! the release lacks is left out with a warning; any other value it lacks
//! is an error. Both name the nearest release that accepts the key.

use serde_json::Value;

use super::Lowering;
use crate::chart::keys;
use crate::paths::dotted_values_path;

impl Lowering<'_> {
    /// Sets a hardening extra: a value the control is met without. Where
    /// the target release has no such key it is left out with a warning.
    pub fn set_extra(&mut self, path: &[&str], value: Value) {
        let origin = self.origin();
        let keys: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        if let Some(refused) = self.refused(&keys, &value) {
            let (release, first) = self.first_accepting(&keys, &value);
            let msg = format!(
                "chart {release} has no `{}`; `{}` is left out",
                dotted_values_path(&refused),
                dotted_values_path(&keys)
            );
            let help = match first {
                Some(r) => format!(
                    "the control holds without it; {r} is the nearest release that accepts it"
                ),
                None => "the control holds without it".to_string(),
            };
            self.warn(self.def().field, msg, help);
            return;
        }
        self.set_from(path, value, origin, self.def().field);
    }

    /// The first key under `path` the target release refuses.
    fn refused(&self, path: &[String], value: &Value) -> Option<Vec<String>> {
        keys::refused(self.release?.schema(), path, value)
    }

    /// The target release, and the nearest release accepting the keys.
    fn first_accepting(&self, path: &[String], value: &Value) -> (String, Option<String>) {
        let release = self
            .release
            .map_or(self.policy.chart.clone(), |r| r.version.clone());
        let first = self
            .release
            .and_then(|r| keys::nearest_accepting(r.number(), path, value))
            .map(|r| r.version.clone());
        (release, first)
    }

    /// A value the release refuses is an error: the control cannot be met.
    pub(super) fn refuse(&mut self, path: &[String], value: &Value, pointer: &str) -> bool {
        let Some(refused) = self.refused(path, value) else {
            return false;
        };
        let (release, first) = self.first_accepting(path, value);
        let msg = format!(
            "`{}` cannot be expressed on chart {release}: it has no `{}`",
            self.def().id,
            dotted_values_path(&refused)
        );
        let help = match first {
            Some(r) => format!(
                "{r} is the nearest release that accepts it; set `chart: {r}` or choose another setting"
            ),
            None => "no known release accepts it; choose another setting".to_string(),
        };
        self.error(pointer, msg, help);
        true
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::chart::releases;
    use crate::controls::ALL;
    use crate::parse::{Input, Loaded, load};
    use crate::plan::Plan;

    fn lowering<'a>(loaded: &'a Loaded, chart: &str) -> Lowering<'a> {
        Lowering {
            policy: &loaded.policy,
            prov: &loaded.prov,
            chart: crate::chart::ChartLine::of(chart),
            release: releases::nearest(chart),
            k8s_minor: 30,
            plan: Plan::default(),
            current: Some(ALL[0].def()),
        }
    }

    #[test]
    fn a_required_key_the_release_lacks_is_an_error_naming_the_nearest_release() {
        let loaded = load(&Input::Preset("restricted".into())).unwrap();
        let mut cx = lowering(&loaded, "4.0.0");
        let path = [
            "scheduling",
            "userPlaceholder",
            "extraPodSpec",
            "securityContext",
        ];
        cx.set(&path, json!({"runAsNonRoot": true}));
        assert!(cx.plan.values.is_empty(), "nothing emitted");
        let d = &cx.plan.diagnostics[0];
        assert!(d.is_error());
        assert!(
            d.message.contains("cannot be expressed on chart 4.0.0"),
            "{}",
            d.message
        );
        assert!(
            d.message
                .contains("`scheduling.userPlaceholder.extraPodSpec`")
        );
        assert!(
            d.help
                .as_deref()
                .unwrap()
                .starts_with("4.1.0 is the nearest release")
        );
        // The same key on a release that has it is emitted.
        let mut cx = lowering(&loaded, "4.1.0");
        cx.set(&path, json!({"runAsNonRoot": true}));
        assert_eq!(cx.plan.values.len(), 1);
        assert!(cx.plan.diagnostics.is_empty());
    }

    #[test]
    fn an_extra_the_release_lacks_is_left_out_with_a_warning() {
        let loaded = load(&Input::Preset("restricted".into())).unwrap();
        let mut cx = lowering(&loaded, "3.3.8");
        let path = [
            "scheduling",
            "userPlaceholder",
            "extraPodSpec",
            "securityContext",
        ];
        cx.set_extra(&path, json!({"runAsNonRoot": true}));
        assert!(cx.plan.values.is_empty());
        let d = &cx.plan.diagnostics[0];
        assert_eq!(d.severity, crate::diag::Severity::Warning);
        assert!(d.message.starts_with("chart 3.3.8 has no"), "{}", d.message);
        assert!(d.help.as_deref().unwrap().contains("4.1.0"));
    }
}

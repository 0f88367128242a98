//! Stage 3 — lower: run every control over the merged policy and collect
//! the [`Plan`]: values, manifest requests and diagnostics, each stamped
//! with the control and policy field that produced it.

use serde_json::Value;

use crate::chart::releases::{self, Release};
use crate::chart::version::Version;
use crate::chart::{ChartLine, keys};
use crate::controls::{ALL, ControlDef};
use crate::diag::{Diagnostic, Loc};
use crate::parse::Loaded;
use crate::plan::{Group, ManifestRequest, Origin, Plan};
use crate::policy::Policy;
use crate::policy::merge::Provenance;
use crate::validate::formats::kubernetes_minor;
use crate::validate::schema_check::dotted;

/// What controls see while they expand.
pub struct Lowering<'a> {
    pub policy: &'a Policy,
    pub prov: &'a Provenance,
    pub chart: ChartLine,
    /// The embedded release whose schema decides which keys may be emitted:
    /// the policy's chart, or the nearest known release of its line.
    pub release: Option<&'static Release>,
    /// Oldest Kubernetes minor version of the cluster (e.g. 30).
    pub k8s_minor: u32,
    pub plan: Plan,
    current: Option<&'static ControlDef>,
}

/// Lowers a loaded policy into a plan.
pub fn lower(loaded: &Loaded) -> Plan {
    let policy = &loaded.policy;
    let mut cx = Lowering {
        policy,
        prov: &loaded.prov,
        chart: ChartLine::of(&policy.chart),
        release: releases::nearest(&policy.chart),
        k8s_minor: kubernetes_minor(&policy.kubernetes_version).unwrap_or(30),
        plan: Plan {
            chart_version: policy.chart.clone(),
            ..Plan::default()
        },
        current: None,
    };
    if releases::find(&policy.chart).is_none() {
        let follows = cx.release.map_or(String::new(), |r| {
            format!("; output follows {}, the nearest known release", r.version)
        });
        let d = Diagnostic::warning(format!(
            "chart {} is not a release this version knows{follows}",
            policy.chart
        ))
        .help(format!("known releases: {}", releases::compact_list()));
        cx.plan
            .diagnostics
            .push(d.at_opt(loaded.prov.loc("/chart")));
    }
    if let Some(min) = &policy.minimum_chart
        && let (Some(want), Some(have)) = (Version::parse(min), Version::parse(&policy.chart))
        && have < want
    {
        let d = Diagnostic::error(format!(
            "chart {} is older than `minimumChart: {min}`",
            policy.chart
        ))
        .help(format!(
            "target chart {min} or newer (`chart:` or `--chart-version`)"
        ));
        cx.plan
            .diagnostics
            .push(d.at_opt(loaded.prov.loc("/minimumChart")));
    }
    for control in ALL {
        cx.current = Some(control.def());
        cx.plan
            .settings
            .push((control.def().id, control.selected(policy)));
        control.lower(policy, &mut cx);
    }
    cx.current = None;
    weakenings(loaded, &mut cx.plan);
    cx.plan
}

/// Warns where a policy sets a control weaker than the policy it extends.
fn weakenings(loaded: &Loaded, plan: &mut Plan) {
    let Some(parent) = &loaded.parent else { return };
    for control in ALL {
        let def = control.def();
        let (old, new) = (
            control.selected(&parent.policy),
            control.selected(&loaded.policy),
        );
        let (old_s, new_s) = (def.setting(&old), def.setting(&new));
        if new_s.rank > old_s.rank {
            let mut d = Diagnostic::warning(format!(
                "`{}` weakens `{}` from `{}` (set by {}) to `{}`",
                def.dotted_field(),
                def.id,
                old_s.name,
                parent
                    .prov
                    .source(def.field)
                    .map_or(parent.origin.as_str(), |s| s.name.as_str()),
                new_s.name
            ))
            .control(def.id)
            .at_opt(loaded.prov.loc(def.field));
            if let Some(l) = parent.prov.loc(def.field) {
                d = d.related(l);
            }
            plan.diagnostics.push(d);
        }
    }
}

impl Lowering<'_> {
    fn def(&self) -> &'static ControlDef {
        self.current
            .expect("controls run with a current definition")
    }

    /// Origin stamp for output produced from policy field `pointer`.
    pub fn origin_of(&self, pointer: &str) -> Origin {
        let def = self.def();
        let src = self.prov.source(pointer);
        Origin {
            control: def.id,
            field: dotted(pointer),
            source: src.map(|s| s.name.clone()).unwrap_or_default(),
            preset: src.and_then(|s| s.preset.clone()),
            line: self.prov.line(pointer).unwrap_or(0),
        }
    }

    fn origin(&self) -> Origin {
        self.origin_of(self.def().field)
    }

    /// Sets one Helm value, attributed to the control's own field.
    pub fn set(&mut self, path: &[&str], value: Value) {
        let origin = self.origin();
        self.set_from(path, value, origin, self.def().field);
    }

    /// Sets one Helm value, attributed to a specific policy field.
    pub fn set_at(&mut self, pointer: &str, path: &[&str], value: Value) {
        let origin = self.origin_of(pointer);
        self.set_from(path, value, origin, pointer);
    }

    /// Sets a hardening extra: a value the control is met without. Where
    /// the target release has no such key it is left out with a warning.
    pub fn set_extra(&mut self, path: &[&str], value: Value) {
        let origin = self.origin();
        let keys: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        if let Some(refused) = self.refused(&keys, &value) {
            let (release, first) = self.first_accepting(&keys, &value);
            let msg = format!(
                "chart {release} has no `{}`; `{}` is left out",
                crate::controls::dotted_values_path(&refused),
                crate::controls::dotted_values_path(&keys)
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
    fn refuse(&mut self, path: &[String], value: &Value, pointer: &str) -> bool {
        let Some(refused) = self.refused(path, value) else {
            return false;
        };
        let (release, first) = self.first_accepting(path, value);
        let msg = format!(
            "`{}` cannot be expressed on chart {release}: it has no `{}`",
            self.def().id,
            crate::controls::dotted_values_path(&refused)
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

    fn set_from(&mut self, path: &[&str], value: Value, origin: Origin, pointer: &str) {
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        if self.refuse(&path, &value, pointer) {
            return;
        }
        if let Some(prev) = self
            .plan
            .values
            .iter()
            .find(|e| e.path == path && !e.append)
        {
            if prev.value != value {
                let msg = format!(
                    "controls `{}` and `{}` both set `{}` to different values",
                    prev.origin.control,
                    origin.control,
                    path.join(".")
                );
                self.plan.diagnostics.push(
                    Diagnostic::error(msg)
                        .help("this is a bug in z2jh-policy; please report it with the policy"),
                );
            }
            return;
        }
        self.plan.values.push(crate::plan::ValueEntry {
            path,
            value,
            append: false,
            origin,
        });
    }

    /// Appends one item to a list several controls fill.
    pub fn append(&mut self, path: &[&str], item: Value) {
        let origin = self.origin();
        self.append_at_origin(path, item, origin, self.def().field);
    }

    pub fn append_at(&mut self, pointer: &str, path: &[&str], item: Value) {
        let origin = self.origin_of(pointer);
        self.append_at_origin(path, item, origin, pointer);
    }

    fn append_at_origin(&mut self, path: &[&str], item: Value, origin: Origin, pointer: &str) {
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        if self.refuse(&path, &Value::Null, pointer) {
            return;
        }
        self.plan.values.push(crate::plan::ValueEntry {
            path,
            value: item,
            append: true,
            origin,
        });
    }

    /// Requests a manifest rendered from `templates/<template>`.
    pub fn manifest(&mut self, group: Group, template: &'static str, context: Value) {
        let origin = self.origin();
        self.plan.manifests.push(ManifestRequest {
            group,
            template,
            context,
            origin,
        });
    }

    /// Location of a policy field, for diagnostics.
    pub fn loc(&self, pointer: &str) -> Option<Loc> {
        self.prov.loc(pointer)
    }

    fn push(&mut self, d: Diagnostic, pointer: &str) {
        let d = d.control(self.def().id).at_opt(self.loc(pointer));
        self.plan.diagnostics.push(d);
    }

    /// A policy that cannot compile.
    pub fn error(&mut self, pointer: &str, msg: impl Into<String>, help: impl Into<String>) {
        self.push(Diagnostic::error(msg).help(help), pointer);
    }

    /// A trade-off the policy accepts.
    pub fn warn(&mut self, pointer: &str, msg: impl Into<String>, help: impl Into<String>) {
        self.push(Diagnostic::warning(msg).help(help), pointer);
    }

    /// Something the operator must do or know outside the chart.
    pub fn note(&mut self, pointer: &str, msg: impl Into<String>) {
        self.push(Diagnostic::note(msg), pointer);
    }

    /// The hub's release namespace.
    pub fn namespace(&self) -> &str {
        &self.policy.metadata.namespace
    }
}

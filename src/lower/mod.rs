//! Stage 3 — lower: run every control over the merged policy and collect
//! the [`Plan`]: values, manifest requests and diagnostics, each stamped
//! with the control and policy field that produced it.

use serde_json::Value;

mod release;

use crate::chart::ChartLine;
use crate::chart::releases::{self, Release};
use crate::controls::{ALL, ControlDef, judge};
use crate::diag::{Diagnostic, Loc};
use crate::parse::Loaded;
use crate::paths::dotted;
use crate::plan::{Group, ManifestRequest, Origin, Plan};
use crate::policy::Policy;
use crate::policy::merge::Provenance;
use crate::validate::formats::kubernetes_minor;

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
    release::check_target(loaded, &mut cx.plan, cx.release);
    for control in ALL {
        cx.current = Some(control.def());
        cx.plan
            .settings
            .push((control.def().id, control.selected(policy)));
        control.lower(policy, &mut cx);
    }
    cx.current = None;
    cx.plan.diagnostics.extend(crate::exceptions::check(loaded));
    weakenings(loaded, &mut cx.plan);
    cx.plan
}

/// Warns where a policy sets a control weaker than the policy it extends,
/// unless a hub-wide exception of the policy allows the weaker setting (the
/// exception's own note says so instead).
fn weakenings(loaded: &Loaded, plan: &mut Plan) {
    let Some(parent) = &loaded.parent else { return };
    // Both read for the chart and cluster this policy targets: a setting
    // that follows the chart (`chart-default`) is no weaker for moving.
    let mut before = parent.policy.clone();
    before.chart.clone_from(&loaded.policy.chart);
    before
        .kubernetes_version
        .clone_from(&loaded.policy.kubernetes_version);
    for control in ALL {
        let def = control.def();
        let (old, new) = (control.selected(&before), control.selected(&loaded.policy));
        // A derived (`auto`) setting weakens only through the fields it is
        // derived from, and those are warned about themselves.
        if old.detail.as_deref() == Some("auto") && new.detail.as_deref() == Some("auto") {
            continue;
        }
        let (old_s, new_s) = (def.setting(&old), def.setting(&new));
        if judge::weaker(def, &old, &new)
            && !crate::exceptions::hub_wide_allows(&loaded.policy, def, new_s)
        {
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
        self.manifest_with_comment(group, template, context, None);
    }

    /// Like [`Lowering::manifest`], with comment lines written above the objects.
    pub fn manifest_with_comment(
        &mut self,
        group: Group,
        template: &'static str,
        context: Value,
        comment: Option<String>,
    ) {
        let origin = self.origin();
        self.plan.manifests.push(ManifestRequest {
            group,
            template,
            context,
            origin,
            comment,
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

//! The context controls write into while they lower a policy: Helm values,
//! manifest requests and diagnostics, each stamped with the control and
//! policy field that produced it.

use serde_json::Value;

mod release;

use super::{Control, ControlDef};
use crate::chart::ChartLine;
use crate::chart::releases::{self, Release};
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

impl<'a> Lowering<'a> {
    /// A context for `loaded`'s policy with an empty plan for its chart.
    pub fn new(loaded: &'a Loaded) -> Self {
        let policy = &loaded.policy;
        Lowering {
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
        }
    }

    /// Records the control's setting and lets it write, stamped with its id.
    pub fn run(&mut self, control: &dyn Control) {
        self.current = Some(control.def());
        self.plan
            .settings
            .push((control.def().id, control.selected(self.policy)));
        control.lower(self.policy, self);
        self.current = None;
    }
}

impl Lowering<'_> {
    fn def(&self) -> &'static ControlDef {
        self.current
            .expect("controls run with a current definition")
    }

    /// Origin stamp for output produced from policy field `pointer`.
    pub fn origin_of(&self, pointer: &str) -> Origin {
        crate::policy::fields::debug_check(pointer);
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
        crate::policy::fields::debug_check(pointer);
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

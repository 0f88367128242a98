//! Judging existing Helm values against a policy: the engine behind
//! `check` (a policy of yours) and `audit` (the `restricted` preset).
//!
//! Input: values files in Helm's order, the chart's defaults (or, without a
//! chart folder, the `baseline` preset's values, which are the chart
//! defaults made explicit), optionally manifests, and a reference policy.
//! Output: a [`Report`] with one [`Finding`] for every control whose
//! read-back setting is weaker than the policy's, or that cannot be read,
//! each pointing at the values file and line that decided it; `audit` adds
//! profile overrides that can undo a control.
//!
//! Strength comes from the control definitions alone: a setting is weaker
//! when its `rank` is higher.

pub mod advisories;
mod evidence;
pub mod excepted;
pub mod inputs;
pub(crate) mod profiles;

pub use profiles::{security_overrides, without_profiles};
pub mod report;
pub mod sarif;
pub mod site;

use serde::Serialize;
use serde_json::{Value, json};

use crate::chart::{ChartDir, ChartLine, ChartSource};
use crate::controls::{ALL, ControlDef, ReadBack, ValuesView, judge};
use crate::diag::{Diagnostic, Loc};
use crate::lower;
use crate::parse::{Loaded, read_text, read_yaml};
use crate::plan::Plan;
use crate::render::{self, Rendered};
use crate::validate::chart_values::ValuesFile;
use crate::values::{self, helm_merge};

pub use evidence::Evidence;

/// Reads a values file as Helm does: a file of only comments is `{}`.
pub fn read_values(path: &std::path::Path) -> Result<ValuesFile, Diagnostic> {
    let name = path.display().to_string();
    let text = read_text(path)?;
    values_from_text(&name, text)
}

pub fn values_from_text(name: &str, text: String) -> Result<ValuesFile, Diagnostic> {
    match ValuesFile::from_text(name, text.clone()) {
        Ok(f) => Ok(f),
        // Parsed again only when the first parse found no document (a
        // second full parse of a huge, broken file would double its cost).
        Err(e)
            if e.message.contains("file is empty")
                && crate::yaml::parse_stream(&text).is_ok_and(|d| d.is_empty()) =>
        {
            let doc = read_yaml(name, "{}\n")?;
            Ok(ValuesFile {
                name: name.to_string(),
                text,
                doc,
                yaml11: Vec::new(),
                warnings: Vec::new(),
            })
        }
        Err(e) => Err(e),
    }
}

/// Reads manifests (YAML streams, e.g. the compiler's `manifests/*.yaml`).
pub fn read_manifests(path: &std::path::Path) -> Result<Vec<Value>, Diagnostic> {
    let name = path.display().to_string();
    let text = read_text(path)?;
    crate::yaml::parse_stream(&text).map_err(|e| {
        let d = Diagnostic::error(format!("invalid YAML in `{name}`: {}", e.message));
        match e.pos {
            Some(p) => d.at(Loc::new(&name, &text, p)),
            None => d.at(Loc::file(&name)),
        }
    })
}

/// First line of each non-empty YAML document in a stream file.
pub fn document_starts(path: &std::path::Path) -> Vec<u32> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = Vec::new();
    let mut start = 1u32;
    let mut has_content = false;
    for (i, line) in text.lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if line.starts_with("---") {
            if has_content {
                out.push(start);
            }
            start = n + 1;
            has_content = false;
        } else if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            if !has_content {
                start = n;
            }
            has_content = true;
        }
    }
    if has_content {
        out.push(start);
    }
    out
}

/// What the values are judged in: their files, the defaults under them, and
/// any manifests applied beside them.
pub struct Installed {
    pub files: Vec<ValuesFile>,
    /// The chart folder's `values.yaml`, for pointing at a default.
    pub chart_file: Option<ValuesFile>,
    /// Defaults under the files, nulls removed.
    pub defaults: Value,
    /// Where the defaults come from, for reports.
    pub defaults_name: String,
    pub chart: ChartLine,
    pub chart_version: Option<String>,
    pub manifests: Option<Vec<Value>>,
    /// The file of each manifest document, in order.
    pub manifest_files: Vec<String>,
    /// (file, document index in the file, first line) of each document.
    pub manifest_starts: Vec<(String, usize, u32)>,
    /// The chart's schema and defaults, when a release is known.
    pub chart_data: Option<ChartDir>,
}

impl Installed {
    /// Defaults from a chart folder or an embedded release, or, with
    /// neither, from the `baseline` preset's values.
    pub fn new(
        files: Vec<ValuesFile>,
        chart: Option<&ChartSource>,
        manifests: Option<Vec<Value>>,
    ) -> Result<Installed, Vec<Diagnostic>> {
        match chart {
            Some(source) => {
                let chart = source.load().map_err(|d| vec![d])?;
                let chart_file = match source {
                    ChartSource::Dir(dir) => {
                        Some(read_values(&dir.join("values.yaml")).map_err(|d| vec![d])?)
                    }
                    // Evidence in the defaults points into them as YAML
                    // (the embedded data keeps no comments or layout).
                    ChartSource::Release(v) => Some(
                        values_from_text(
                            &format!("jupyterhub-{v}/values.yaml"),
                            crate::yaml::to_string(&chart.defaults),
                        )
                        .map_err(|d| vec![d])?,
                    ),
                };
                Ok(Installed {
                    files,
                    chart_file,
                    defaults: strip(&chart.defaults),
                    defaults_name: format!("chart {} {}", chart.name, chart.version),
                    chart: ChartLine::of(&chart.version),
                    chart_version: Some(chart.version.clone()),
                    manifests,
                    manifest_files: Vec::new(),
                    manifest_starts: Vec::new(),
                    chart_data: Some(chart),
                })
            }
            // No release named anywhere: the newest one this binary knows
            // (the baseline preset's values are not the chart's defaults).
            None => {
                let latest = crate::chart::releases::latest().version.to_string();
                let mut inst =
                    Installed::new(files, Some(&ChartSource::Release(latest)), manifests)?;
                inst.defaults_name = format!(
                    "{} (no chart release given: the newest known)",
                    inst.defaults_name
                );
                Ok(inst)
            }
        }
    }

    /// Keys of the merged values the chart's schema refuses (unknown keys,
    /// wrong types): JSON pointer and the schema's complaint.
    pub fn schema_issues(&self, merged: &Value) -> Vec<(String, String)> {
        let Some(chart) = &self.chart_data else {
            return Vec::new();
        };
        let Ok(validator) = chart.validator() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for err in validator.iter_errors(merged) {
            let ptr = err.instance_path().as_str().to_string();
            match err.kind() {
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    for key in unexpected {
                        out.push((
                            format!("{ptr}/{}", crate::paths::escape_pointer(key.as_str())),
                            format!("chart {} has no key `{key}` there", chart.version),
                        ));
                    }
                }
                _ => out.push((ptr, format!("chart {} refuses it: {err}", chart.version))),
            }
        }
        out
    }

    /// The values Helm would install.
    pub fn merged(&self) -> Value {
        let mut v = self.defaults.clone();
        for f in &self.files {
            helm_merge(&mut v, &f.doc.value);
        }
        v
    }

    pub fn view<'a>(&'a self, values: &'a Value) -> ValuesView<'a> {
        ValuesView {
            values,
            defaults: &self.defaults,
            manifests: self.manifests.as_deref(),
            chart: self.chart,
            more: crate::controls::ViewMore::new(
                &self.manifest_files,
                self.chart_version.as_deref(),
            ),
        }
    }

    pub fn file_names(&self) -> Vec<String> {
        self.files.iter().map(|f| f.name.clone()).collect()
    }
}

fn strip(v: &Value) -> Value {
    let mut out = json!({});
    helm_merge(&mut out, v);
    out
}

/// The policy values are judged against, lowered and (when it has no
/// errors) rendered, so fixes and trade-offs come from its own output.
pub struct Reference {
    pub name: String,
    pub loaded: Loaded,
    pub plan: Plan,
    pub rendered: Rendered,
    /// The day exceptions are judged on; `None`: `SOURCE_DATE_EPOCH` or
    /// the clock.
    pub today: Option<crate::exceptions::Date>,
}

impl Reference {
    /// Lowers and renders a loaded policy; its errors are returned whole.
    pub fn new(name: String, loaded: Loaded) -> Result<Reference, Vec<Diagnostic>> {
        let plan = lower::lower(&loaded);
        if plan.has_errors() {
            return Err(plan
                .diagnostics
                .into_iter()
                .filter(Diagnostic::is_error)
                .collect());
        }
        let rendered = render::render(&plan)?;
        Ok(Reference {
            name,
            loaded,
            plan,
            rendered,
            today: None,
        })
    }

    /// The reference's values for one control, as a values tree.
    pub fn values_of(&self, control: &str) -> Value {
        let mut root = json!({});
        for e in self
            .plan
            .values
            .iter()
            .filter(|e| made_by(control, e.origin.control))
        {
            let path: Vec<&str> = e.path.iter().map(String::as_str).collect();
            if e.append {
                let mut items = match values::get(&root, &path) {
                    Some(Value::Array(a)) => a.clone(),
                    _ => Vec::new(),
                };
                items.push(e.value.clone());
                values::set(&mut root, &e.path, Value::Array(items));
            } else {
                values::set(&mut root, &e.path, e.value.clone());
            }
        }
        root
    }

    /// `Kind/name` of the manifests one control produces.
    pub fn manifests_of(&self, control: &str) -> Vec<String> {
        self.rendered
            .manifests
            .iter()
            .filter(|m| made_by(control, m.origin.control))
            .map(|m| m.id())
            .collect()
    }

    /// Warnings and notes the control reports when compiled: what its
    /// setting costs or needs outside the chart.
    pub fn tradeoffs_of(&self, control: &str) -> Vec<String> {
        self.plan
            .diagnostics
            .iter()
            .filter(|d| d.control == Some(control) && !d.is_error())
            .map(|d| match &d.help {
                Some(h) => format!("{} ({h})", d.message),
                None => d.message.clone(),
            })
            .collect()
    }

    /// The reference's values over the defaults: what a compliant install has.
    pub fn expected(&self, installed: &Installed) -> Value {
        let mut v = installed.defaults.clone();
        helm_merge(&mut v, &self.rendered.values);
        v
    }
}

pub use crate::controls::judge::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The values put a weaker setting in force than the policy selects.
    Violated,
    /// The values cannot be read for this control.
    CannotVerify,
    /// A profile's `kubespawner_override` can undo the control.
    ProfileOverride,
    /// Weaker than the policy, within an exception in force: reported, not
    /// counted.
    Excepted,
}

pub use crate::controls::SettingView;

/// The values that would bring a control up to the policy.
#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    /// The policy's values for the control, as a values tree.
    pub values: Value,
    /// The same as YAML, ready to paste into a values file.
    pub yaml: String,
    /// Manifests the control also needs (`Kind/name`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub manifests: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable identifier: `Z2JH-<control id>` or `Z2JH-profile-override`.
    pub id: String,
    pub severity: Severity,
    pub status: Status,
    pub control: &'static str,
    pub title: &'static str,
    /// The policy field that selects the control's setting.
    pub policy_field: String,
    pub required: SettingView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<SettingView>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tradeoffs: Vec<String>,
    /// The exception that covers the finding, or that has expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<crate::exceptions::View>,
    /// The slug of the profile a profile-override finding is about.
    #[serde(skip)]
    pub profile: Option<String>,
}

/// The outcome of judging values against a policy.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub command: &'static str,
    /// Root that SARIF paths are made relative to (`--sarif-root`).
    #[serde(skip)]
    pub sarif_root: Option<String>,
    pub policy: String,
    pub values: Vec<String>,
    pub defaults: String,
    pub findings: Vec<Finding>,
    /// Controls the values meet.
    pub holds: Vec<&'static str>,
}

impl Report {
    pub fn violations(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| !matches!(f.status, Status::CannotVerify | Status::Excepted))
            .count()
    }

    /// Findings of severity `s` that count (excepted ones do not).
    pub fn count(&self, s: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == s && f.status != Status::Excepted)
            .count()
    }

    pub fn excepted(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.status == Status::Excepted)
            .count()
    }
}

/// Which findings to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Controls only (`check`).
    Controls,
    /// Controls and profile overrides (`audit`).
    WithProfiles,
}

/// Judges the installed values against the reference policy.
pub fn assess(
    command: &'static str,
    reference: &Reference,
    installed: &Installed,
    scope: Scope,
) -> Report {
    let merged = installed.merged();
    let expected = reference.expected(installed);
    let mut view = installed.view(&merged);
    view.more.sanctioned_egress = std::sync::Arc::new(
        values::get(
            &reference.values_of("egress"),
            &["singleuser", "networkPolicy", "egress"],
        )
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default(),
    );
    let policy = &reference.loaded.policy;
    let today = reference.today.unwrap_or_else(|| {
        crate::exceptions::Date::today().map_or_else(|_| crate::exceptions::Date::clock(), |t| t.0)
    });
    // What exceptions in force let a profile weaken (`profile-weakening`).
    view.more.excused = std::sync::Arc::new(
        crate::exceptions::listed(policy)
            .iter()
            .filter(|l| !l.expired(today))
            .map(|l| (l.profile().map(str::to_string), l.def.id, l.allow))
            .collect(),
    );
    let issues = installed.schema_issues(&merged);
    // The controls read the same deployment and nothing else they share:
    // work it out once, then judge them side by side.
    view.deployment();
    let judgements = crate::par::map(ALL, crate::par::cores(), |c| view.judgement(*c));
    let mut findings = Vec::new();
    let mut holds = Vec::new();
    for (control, judged) in ALL.iter().zip(judgements) {
        let def = control.def();
        let want = control.selected(policy);
        let required = SettingView::of(def, &want);
        let nothing_required = judge::requires_nothing(def, &want);
        // A key the release does not have (or refuses) next to the
        // control's keys was meant to set it: nothing can be said.
        if let Some((ptr, why)) = issue_for(def, &issues)
            && !nothing_required
        {
            let key: Vec<String> = crate::paths::pointer_keys(ptr)
                .map(|k| k.into_owned())
                .collect();
            findings.push(Finding {
                    id: finding_id(def.id),
                    severity: Severity::Info,
                    status: Status::CannotVerify,
                    control: def.id,
                    title: def.title,
                    policy_field: def.dotted_field(),
                    required,
                    found: None,
                    message: format!(
                        "cannot verify `{}`: `{}` is in the values, but {why}; it was meant to set this control and does nothing",
                        def.id,
                        crate::paths::dotted_values_path(&key)
                    ),
                    evidence: evidence::at_origin(&crate::effective::Origin::values(&key), installed, &merged)
                        .map(|e| if control.hides_values() { e.hidden() } else { e }),
                    fix: fix_of(reference, def.id),
                    tradeoffs: reference.tradeoffs_of(def.id),
                    exception: None,
                    profile: None,
                });
            continue;
        }
        let (status, found, severity, message) = match judged.read_back {
            ReadBack::Setting(got) if judge::meets(def, &want, &got) => {
                match &judged.unverified {
                    Some((reason, by)) if !nothing_required => (
                        Status::CannotVerify,
                        None,
                        Severity::Info,
                        format!(
                            "cannot verify `{}`: the values give `{}`, but {reason}: {}",
                            def.id,
                            SettingView::of(def, &got).label(),
                            by.describe()
                        ),
                    ),
                    _ => {
                        // The preset's sizes are examples: parameters are
                        // compared against a policy of one's own (`check`,
                        // `audit --policy`), the same way by both.
                        let differ = if !reference.name.starts_with("preset") {
                            control.parameters(policy, &view)
                        } else {
                            Vec::new()
                        };
                        if differ.is_empty() {
                            holds.push(def.id);
                            continue;
                        }
                        let found = SettingView::of(def, &got);
                        (
                            Status::Violated,
                            Some(found),
                            Severity::Medium,
                            format!(
                                "`{}` is `{}` as the policy requires, but its parameters differ: {}",
                                def.id,
                                def.setting(&got).name,
                                differ.join("; ")
                            ),
                        )
                    }
                }
            }
            ReadBack::CannotVerify { .. } if nothing_required => {
                holds.push(def.id);
                continue;
            }
            ReadBack::Setting(got) => {
                let found = SettingView::of(def, &got);
                let message = format!(
                    "`{}` is `{}` in the merged values; the policy requires `{}`",
                    def.id,
                    found.label(),
                    required.label()
                );
                let severity = Severity::found(def, &want, &got, judged.exposes);
                (Status::Violated, Some(found), severity, message)
            }
            ReadBack::CannotVerify { reason } => (
                Status::CannotVerify,
                None,
                Severity::Info,
                format!("cannot verify `{}`: {reason}", def.id),
            ),
        };
        let unverified = judged
            .unverified
            .as_ref()
            .map(|(_, o)| o)
            .filter(|_| status == Status::CannotVerify);
        let evidence = unverified
            .or(judged.by.as_ref())
            .and_then(|o| evidence::at_origin(o, installed, &merged))
            .or_else(|| evidence::locate(def, installed, &merged, &expected))
            .map(|e| {
                if control.hides_values() {
                    e.hidden()
                } else {
                    e
                }
            });
        let fix = match control.remedy(policy, &view) {
            Some(values) if status == Status::Violated => Some(Fix {
                yaml: crate::yaml::to_string(&values),
                values,
                manifests: reference.manifests_of(def.id),
            }),
            _ => fix_of(reference, def.id),
        };
        findings.push(Finding {
            id: finding_id(def.id),
            severity,
            status,
            control: def.id,
            title: def.title,
            policy_field: def.dotted_field(),
            required,
            found,
            message,
            evidence,
            fix,
            tradeoffs: reference.tradeoffs_of(def.id),
            exception: None,
            profile: None,
        });
    }
    // A policy that lets profiles weaken controls accepts their overrides.
    if scope == Scope::WithProfiles
        && policy.spec.profiles.may_weaken == crate::policy::MayWeaken::None
    {
        let more = profiles::findings(reference, installed, &merged, &findings, view.deployment());
        findings.extend(more);
    }
    if !policy.exceptions.is_empty() {
        excepted::apply(reference, &view, &mut findings, today);
    }
    findings.extend(advisories::findings(reference, installed));
    Report {
        command,
        sarif_root: None,
        policy: reference.name.clone(),
        values: installed.file_names(),
        defaults: installed.defaults_name.clone(),
        findings,
        holds,
    }
}

/// A schema issue beside one of the control's keys: the issue's parent
/// (at least two levels deep) holds one of them.
fn issue_for<'a>(def: &ControlDef, issues: &'a [(String, String)]) -> Option<&'a (String, String)> {
    issues.iter().find(|(ptr, _)| {
        // Keys unescaped: a values key may hold `/` (`hub.jupyter.org/…`).
        let parts: Vec<_> = crate::paths::pointer_keys(ptr).collect();
        if parts.len() < 3 {
            return false;
        }
        let parent = &parts[..parts.len() - 1];
        def.values_paths()
            .iter()
            .any(|k| k.len() >= parent.len() && k.iter().zip(parent).all(|(a, b)| *a == **b))
    })
}

pub fn finding_id(control: &str) -> String {
    format!("Z2JH-{control}")
}

/// Output of `by` counts for `control`: its own, or that of a control it
/// is built from.
fn made_by(control: &str, by: &str) -> bool {
    control == by || crate::controls::by_id(control).is_some_and(|c| c.built_from().contains(&by))
}

fn fix_of(reference: &Reference, control: &str) -> Option<Fix> {
    let values = reference.values_of(control);
    let manifests = reference.manifests_of(control);
    let empty = values.as_object().is_some_and(|m| m.is_empty());
    if empty && manifests.is_empty() {
        return None;
    }
    Some(Fix {
        yaml: if empty {
            String::new()
        } else {
            crate::yaml::to_string(&values)
        },
        values,
        manifests,
    })
}

#[cfg(test)]
mod tests {
    use super::issue_for;
    use crate::controls::{Control, cloud_metadata::CloudMetadataControl};

    #[test]
    fn a_schema_issue_beside_a_control_key_is_found_by_unescaped_keys() {
        let def = CloudMetadataControl.def();
        let issue = |p: &str| vec![(p.to_string(), "unknown key".to_string())];
        // A misspelt key next to `singleuser.cloudMetadata.blockWithIptables`.
        let typo = issue("/singleuser/cloudMetadata/blockWithIptabels");
        assert!(issue_for(def, &typo).is_some());
        // Too shallow to be meant for one control.
        assert!(issue_for(def, &issue("/singleuser/cloudMetadat")).is_none());
        // An empty top-level key is a key of its own, not a leading slash.
        assert!(issue_for(def, &issue("//singleuser/cloudMetadata/x")).is_none());
        // `~1` is a `/` inside a key: not the same path.
        assert!(issue_for(def, &issue("/singleuser~1cloudMetadata/x/y")).is_none());
    }
}

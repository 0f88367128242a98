//! The security controls. Each control is defined once, in its own module:
//! its policy field, its settings from strongest to weakest with the
//! rationale and trade-off, how it expands into values and manifests per
//! chart line, and how its state is read back from a values file.
//! Compile, explain, diff, check and audit all go through [`ALL`].

mod access;
mod admission;
pub(crate) mod api_access;
mod bandwidth;
mod browser;
mod browser_headers;
mod chart_pods;
mod chart_read_only;
pub(crate) mod cloud_metadata;
pub(crate) mod egress;
pub(crate) mod egress_names;
mod exposure;
mod https;
mod https_gateway;
mod https_ingress;
pub(crate) mod images;
mod internal_tls;
pub(crate) mod isolation;
pub mod judge;
pub mod lowering;
mod network_policy;
mod pids;
pub(crate) mod pod_level;
pub mod pod_security;
pub(crate) mod profile_list;
pub(crate) mod profiles;
mod quota;
pub(crate) mod resources;
mod secrets;
pub mod setting_view;
mod storage;
pub(crate) mod user_pods;

pub use setting_view::SettingView;
pub use user_pods::IDENTITY_KEY;

use serde::Serialize;
use serde_json::Value;

use crate::chart::ChartLine;
use crate::controls::lowering::Lowering;
use crate::plan::Selected;
use crate::policy::Policy;

/// One setting of a control. Each is a `static` of its control's module,
/// listed in its definition's `settings` and named wherever the control
/// selects, reads back or grades it ([`Setting::selected`],
/// [`Selected::is`]): a setting is known by identity, never by position.
#[derive(Debug, Serialize)]
pub struct Setting {
    pub name: &'static str,
    /// Strength: 0 is strongest; equal ranks are equally strong.
    pub rank: u8,
    /// What the setting does, in one line.
    pub summary: &'static str,
}

impl Setting {
    /// This setting, without detail.
    pub fn selected(&'static self) -> Selected {
        Selected {
            setting: self,
            detail: None,
        }
    }

    /// This setting with a detail (e.g. the number of extra egress rules).
    pub fn with(&'static self, detail: impl Into<String>) -> Selected {
        Selected {
            setting: self,
            detail: Some(detail.into()),
        }
    }
}

/// The fixed description of a control.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ControlDef {
    pub id: &'static str,
    pub title: &'static str,
    /// JSON pointer of the policy field that selects the setting.
    pub field: &'static str,
    /// Why the control matters, and the trade-off it asks you to make.
    pub rationale: &'static str,
    /// Settings, strongest first (ranks never decrease along the list).
    pub settings: &'static [&'static Setting],
    /// Helm values paths `read_back` looks at, dotted; a key that itself
    /// contains dots is written in brackets (`a.b[c.d/e]`). `check` and
    /// `audit` point at the last values file that sets one of them.
    pub values_keys: &'static [&'static str],
    /// Those of `values_keys` the control reads but `lower` never sets
    /// (chart keys it judges, or keys only other tools write).
    #[serde(skip)]
    pub read_only_keys: &'static [&'static str],
    /// KubeSpawner traits that a profile's `kubespawner_override` can set
    /// to undo this control for the users of that profile.
    pub spawner_traits: &'static [&'static str],
}

impl ControlDef {
    /// The field in dotted form, as users write it.
    pub fn dotted_field(&self) -> String {
        crate::paths::dotted(self.field)
    }

    /// The setting `s` is at. It is one of this control's own (checked in
    /// debug builds, so every test run catches a setting of another
    /// control); there is no index to fall out of range.
    pub fn setting(&self, s: &Selected) -> &'static Setting {
        debug_assert!(
            self.position(s.setting).is_some(),
            "`{}` is not a setting of `{}`",
            s.setting.name,
            self.id
        );
        s.setting
    }

    /// Where `s` stands in `settings`, by identity; `None` for a setting
    /// of another control.
    pub fn position(&self, s: &Setting) -> Option<usize> {
        self.settings.iter().position(|x| std::ptr::eq(*x, s))
    }

    /// `s` is the first of `settings`.
    pub fn is_strongest(&self, s: &Setting) -> bool {
        self.settings.first().is_some_and(|x| std::ptr::eq(*x, s))
    }

    /// Rank of the weakest setting.
    pub fn weakest_rank(&self) -> u8 {
        self.settings.iter().map(|s| s.rank).max().unwrap_or(0)
    }

    /// `values_keys` as key paths.
    pub fn values_paths(&self) -> Vec<Vec<String>> {
        self.values_keys
            .iter()
            .map(|k| crate::paths::values_path(k))
            .collect()
    }
}

/// The value of a policy enum that selects `s`: `values` lists every value
/// and `setting` is the one mapping from value to setting (an exhaustive
/// `match`), so the way back is never written twice.
pub fn value_of<E: Copy>(
    values: &[E],
    setting: impl Fn(E) -> &'static Setting,
    s: &Selected,
) -> Option<E> {
    values.iter().copied().find(|v| s.is(setting(*v)))
}

/// Panics naming the first setting of `def` that no value of `values`
/// maps to: a list of a policy enum's values that misses one (tests).
#[cfg(test)]
pub fn assert_every_setting_maps_back<E: Copy>(
    def: &ControlDef,
    values: &[E],
    setting: impl Fn(E) -> &'static Setting,
) {
    for s in def.settings {
        let v = value_of(values, &setting, &s.selected());
        assert!(
            v.is_some_and(|v| std::ptr::eq(setting(v), *s)),
            "{}",
            s.name
        );
    }
}

/// What a values file says about a control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum ReadBack {
    Setting(Selected),
    /// The state depends on something that cannot be read statically.
    CannotVerify {
        reason: String,
    },
}

/// Merged values (user files over the chart defaults) plus manifests, for read-back.
pub struct ValuesView<'a> {
    pub values: &'a Value,
    /// The chart's own defaults (`Value::Null` when unknown).
    pub defaults: &'a Value,
    /// Emitted manifests; `None` when only values are known (an audit of
    /// existing values), `Some` (possibly empty) after a compile.
    pub manifests: Option<&'a [Value]>,
    pub chart: ChartLine,
    /// What else is known: manifest files, the exact chart version, and the
    /// effective deployment once worked out.
    pub more: ViewMore<'a>,
}

/// Optional facts about the values being read.
#[derive(Default)]
pub struct ViewMore<'a> {
    /// The file of each manifest document (same order as `manifests`).
    pub manifest_files: &'a [String],
    /// The chart version, when known (picks the chart's config generation).
    pub chart_version: Option<&'a str>,
    /// Egress rules the reference policy lists itself (`egress.allow`, as
    /// compiled): stated exceptions, not openings.
    pub sanctioned_egress: std::sync::Arc<Vec<Value>>,
    /// Exceptions in force: profile slug (`None`: the whole hub), control
    /// id, and the weakest setting allowed. Profiles may weaken these.
    pub excused: std::sync::Arc<Vec<(Option<String>, &'static str, &'static Setting)>>,
    deployment: std::sync::OnceLock<crate::effective::Deployment>,
    /// The deployment of the view this one narrows: the same values build
    /// the same deployment, so it is borrowed, never built again.
    shared: Option<&'a crate::effective::Deployment>,
    /// Pods already built (some of a deployment's), read instead of the
    /// values' own.
    pods: Option<Vec<&'a PodAndNetwork>>,
    /// Each control's judgement of this view (by its place in [`ALL`]),
    /// made once: `profile-weakening` compares every other control's
    /// reading with the default pod's, and `assess` reads them all.
    judged: std::sync::OnceLock<Box<[std::sync::OnceLock<Judgement>]>>,
}

/// A pod with the network it sees.
pub type PodAndNetwork = (
    crate::effective::Pod,
    std::sync::Arc<crate::effective::network::Network>,
);

impl<'a> ViewMore<'a> {
    /// A view of pods already built (some of a deployment's), borrowed.
    pub fn set_pods(&mut self, pods: Vec<&'a PodAndNetwork>) {
        self.pods = Some(pods);
    }

    pub fn new(manifest_files: &'a [String], chart_version: Option<&'a str>) -> ViewMore<'a> {
        ViewMore {
            manifest_files,
            chart_version,
            sanctioned_egress: Default::default(),
            excused: Default::default(),
            shared: None,
            deployment: std::sync::OnceLock::new(),
            pods: None,
            judged: std::sync::OnceLock::new(),
        }
    }
}

impl ValuesView<'_> {
    /// The pods a control is read on, each with its network: those set with
    /// [`ViewMore::set_pods`], else every pod of [`Self::deployment`].
    pub fn pods(&self) -> Vec<&PodAndNetwork> {
        match &self.more.pods {
            Some(p) => p.clone(),
            None => self.deployment().pods.iter().collect(),
        }
    }

    /// Every pod and network the values produce, worked out on first use
    /// (controls read [`Self::pods`], which a view may narrow).
    pub fn deployment(&self) -> &crate::effective::Deployment {
        if let Some(d) = self.more.shared {
            return d;
        }
        self.more.deployment.get_or_init(|| {
            crate::effective::Deployment::build(
                self.values,
                Some(&self.version()),
                &self.effective_manifests(),
            )
        })
    }

    /// The manifests as the effective deployment reads them.
    fn effective_manifests(&self) -> Vec<crate::effective::Manifest> {
        self.manifests
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, doc)| {
                let (file, index) = self.manifest_place(i);
                crate::effective::Manifest {
                    file,
                    index,
                    doc: doc.clone(),
                }
            })
            .collect()
    }

    /// The chart version the deployment is read for.
    fn version(&self) -> String {
        self.more
            .chart_version
            .map(str::to_string)
            .unwrap_or_else(|| match self.chart {
                ChartLine::V3 => "3.3.8".into(),
                ChartLine::V4 => "4.4.0".into(),
            })
    }

    /// The deployment without its profile lists: the pod a user gets when
    /// no profile overrides anything.
    pub fn base_deployment(&self) -> crate::effective::Deployment {
        crate::effective::Deployment::build(
            &crate::assess::without_profiles(self.values),
            Some(&self.version()),
            &self.effective_manifests(),
        )
    }

    /// `c`'s judgement of this view, made once per view (controls are
    /// judged side by side; one asking for another's waits for it).
    pub fn judgement(&self, c: &dyn Control) -> Judgement {
        let Some(i) = ALL.iter().position(|x| std::ptr::eq(x.def(), c.def())) else {
            return c.judge(self);
        };
        let cells = self
            .more
            .judged
            .get_or_init(|| ALL.iter().map(|_| std::sync::OnceLock::new()).collect());
        match cells.get(i) {
            Some(cell) => cell.get_or_init(|| c.judge(self)).clone(),
            None => c.judge(self),
        }
    }

    /// The same values, read on `pods` only.
    pub fn narrowed<'b>(&'b self, pods: Vec<&'b PodAndNetwork>) -> ValuesView<'b> {
        let mut more = ViewMore::new(self.more.manifest_files, self.more.chart_version);
        more.sanctioned_egress = self.more.sanctioned_egress.clone();
        more.excused = self.more.excused.clone();
        more.shared = self.more.shared.or_else(|| self.more.deployment.get());
        more.set_pods(pods);
        ValuesView {
            values: self.values,
            defaults: self.defaults,
            manifests: self.manifests,
            chart: self.chart,
            more,
        }
    }

    /// The file of the `i`-th manifest document and its index in that file.
    fn manifest_place(&self, i: usize) -> (String, usize) {
        let files = self.more.manifest_files;
        let file = files.get(i).cloned().unwrap_or_else(|| "manifests".into());
        let index = files[..i.min(files.len())]
            .iter()
            .filter(|f| **f == file)
            .count();
        (file, index)
    }

    /// Where a key of the `i`-th manifest document comes from.
    pub fn manifest_origin(&self, i: usize, path: &[&str]) -> crate::effective::Origin {
        let (file, index) = self.manifest_place(i);
        crate::effective::Origin::Manifest {
            file,
            index,
            path: path.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// A control's state read off the effective pods (the weakest pod
    /// decides), with what decided it.
    pub fn judge_pods(
        &self,
        def: &ControlDef,
        f: impl Fn(
            &crate::effective::Pod,
            &crate::effective::network::Network,
        ) -> crate::effective::grade::Verdict,
    ) -> Judgement {
        use crate::effective::grade::{Verdict, over};
        let pods = self.pods();
        let v = over(pods.iter().copied(), def.weakest_rank(), &f);
        // Only code can make a pod's reading differ from what its values
        // alone say; without code there is nothing more to learn.
        let coded = pods.iter().any(|(p, _)| !p.unknown.is_empty());
        if let (true, Some(Verdict::Unknown { reason, by })) = (coded, &v) {
            // What the values alone put in force: a weakness there is a
            // violation whatever the code does; a pass is left unverified.
            // Pods without code are read as they are, not copied.
            let cleared: Vec<PodAndNetwork> = pods
                .iter()
                .filter(|(p, _)| !p.unknown.is_empty())
                .map(|(p, n)| {
                    let mut p = p.clone();
                    p.unknown.clear();
                    (p, n.clone())
                })
                .collect();
            let mut cleared = cleared.iter();
            let known: Vec<&PodAndNetwork> = pods
                .iter()
                .map(|pn| match pn.0.unknown.is_empty() {
                    true => Some(*pn),
                    false => cleared.next(),
                })
                .collect::<Option<_>>()
                .unwrap_or_default();
            let values_only = over(known.into_iter(), def.weakest_rank(), &f);
            if matches!(values_only, Some(Verdict::Found(_))) {
                let mut j = Judgement::of(def, values_only, pods.len());
                j.unverified = Some((reason.clone(), by.clone()));
                return j;
            }
        }
        Judgement::of(def, v, pods.len())
    }

    pub fn get(&self, path: &[&str]) -> Option<&Value> {
        crate::values::get(self.values, path)
    }
    pub fn bool(&self, path: &[&str]) -> Option<bool> {
        crate::values::get_bool(self.values, path)
    }
    pub fn str(&self, path: &[&str]) -> Option<&str> {
        crate::values::get_str(self.values, path)
    }
    /// `hub.extraConfig` holds Python that may change anything KubeSpawner does.
    pub fn extra_config_mentions(&self, needle: &str) -> bool {
        self.get(&["hub", "extraConfig"])
            .and_then(Value::as_object)
            .is_some_and(|m| {
                m.values()
                    .filter_map(Value::as_str)
                    .any(|code| code.contains(needle))
            })
    }
    pub fn manifest(&self, kind: &str, name: Option<&str>) -> Option<&Value> {
        self.manifests.unwrap_or_default().iter().find(|m| {
            m.get("kind").and_then(Value::as_str) == Some(kind)
                && name
                    .is_none_or(|n| m.pointer("/metadata/name").and_then(Value::as_str) == Some(n))
        })
    }
}

/// A read-back with what decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub read_back: ReadBack,
    /// The values key, Python line or manifest that decided it.
    pub by: Option<crate::effective::Origin>,
    /// Code the hub runs may change the setting read from values: why, and
    /// where. A weaker setting is still a violation; a pass is unverified.
    pub unverified: Option<(String, crate::effective::Origin)>,
    /// A weaker setting here exposes private addresses, other users or the
    /// API server: findings are high whatever the rank gap.
    pub exposes: bool,
}

impl Judgement {
    pub fn plain(read_back: ReadBack) -> Judgement {
        Judgement {
            read_back,
            by: None,
            unverified: None,
            exposes: false,
        }
    }

    /// From a verdict over pods; the pod is named when there are several.
    pub fn of(
        def: &ControlDef,
        v: Option<crate::effective::grade::Verdict>,
        pods: usize,
    ) -> Judgement {
        use crate::effective::grade::Verdict;
        match v {
            None => Judgement::plain(ReadBack::CannotVerify {
                reason: "no user pod could be built".into(),
            }),
            Some(Verdict::Found(f)) => {
                let detail = match (f.detail, pods > 1) {
                    (Some(d), true) => Some(format!("{d}; {}", f.pod)),
                    (None, true) if !def.is_strongest(f.setting) => Some(f.pod),
                    (d, _) => d,
                };
                Judgement {
                    read_back: ReadBack::Setting(Selected {
                        setting: f.setting,
                        detail,
                    }),
                    by: f.by,
                    unverified: None,
                    exposes: false,
                }
            }
            Some(Verdict::Unknown { reason, by }) => Judgement {
                read_back: ReadBack::CannotVerify {
                    reason: format!("{reason}: {}", by.describe()),
                },
                by: Some(by),
                unverified: None,
                exposes: false,
            },
        }
    }
}

/// A security control.
pub trait Control: Sync {
    fn def(&self) -> &'static ControlDef;
    /// The setting the policy selects.
    fn selected(&self, p: &Policy) -> Selected;
    /// Cross-field checks, then expansion into values, manifests and notes.
    fn lower(&self, p: &Policy, cx: &mut Lowering);
    /// The setting a set of values (and manifests) puts in force.
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        self.judge(v).read_back
    }
    /// The read-back with what decided it; controls read off the effective
    /// deployment override this one, the others `read_back`.
    fn judge(&self, v: &ValuesView) -> Judgement {
        Judgement::plain(self.read_back(v))
    }
    /// Where the setting matches the policy's by name, the parameters the
    /// policy states that the deployment does not meet (a different uid, a
    /// limit above the policy's), in words; empty when they all hold.
    fn parameters(&self, _p: &Policy, _v: &ValuesView) -> Vec<String> {
        Vec::new()
    }
    /// Controls whose output puts this one's setting in force when it has
    /// no output of its own (a level derived from them); their values are
    /// its fix.
    fn built_from(&self) -> &'static [&'static str] {
        &[]
    }
    /// The Pod Security level the setting `p` selects caps the hub's pods
    /// at, with why; `None` when it leaves them `restricted`. The implied
    /// level folds this over [`ALL`], so the reasons read in `ALL` order.
    fn pod_security(&self, _p: &Policy) -> Option<pod_security::PssReason> {
        None
    }
    /// For `init`: changes `p` so that it selects what `v` puts in force, as
    /// closely as the language allows; returns what it could not express.
    /// Controls that nothing in Helm values decides leave `p` alone.
    fn propose(&self, _v: &ValuesView, _p: &mut Policy) -> Vec<String> {
        Vec::new()
    }
    /// The CEL validations that hold a pod to this control's setting at
    /// admission time (`manifests/admission.yaml`); empty when the setting
    /// asks nothing of a pod.
    fn admission(&self, _p: &Policy) -> Vec<crate::admission::Validation> {
        Vec::new()
    }
    /// Settings deployments can be found in that no policy selects (weaker
    /// than anything the language says).
    fn found_only(&self) -> &'static [&'static Setting] {
        &[]
    }
    /// What of this control a pod spec cannot show (so admission cannot
    /// check it), in words; listed in the admission manifest's comment.
    fn admission_gap(&self) -> Option<&'static str> {
        None
    }
    /// Values that bring `v` up to the policy where the policy's own output
    /// cannot (it does not know what the deployment wrote); `None` to use
    /// the policy's values as the fix.
    fn remedy(&self, _p: &Policy, _v: &ValuesView) -> Option<Value> {
        None
    }
    /// Between two states at the same setting, which way the detail moves
    /// what is allowed (a host name added widens); `None`: neither.
    fn detail_direction(&self, _old: Option<&str>, _new: Option<&str>) -> Option<judge::Direction> {
        None
    }
    /// The control is about the profile list itself: `init` reads it on
    /// the values with their profiles, not on the pod without one.
    fn reads_profiles(&self) -> bool {
        false
    }
    /// The values this control reads are credentials: reports cite their
    /// keys, never what they hold.
    fn hides_values(&self) -> bool {
        false
    }
}

/// Every control, in the order their output appears.
pub static ALL: &[&dyn Control] = &[
    &api_access::ApiAccessControl,
    &api_access::ProxyToken,
    &cloud_metadata::CloudMetadataControl,
    &user_pods::IdentityControl,
    &user_pods::RunAsNonRoot,
    &user_pods::PrivilegeEscalation,
    &user_pods::CapabilitiesControl,
    &profiles::Seccomp,
    &profiles::AppArmor,
    &isolation::RuntimeClassControl,
    &isolation::UserNamespaces,
    &isolation::ReadOnlyRoot,
    &pod_level::UserPodLevel,
    &chart_pods::Hardening,
    &chart_pods::ChartResourcesControl,
    &chart_read_only::ChartReadOnlyRoot,
    &pod_security::PodSecurityAdmission,
    &storage::StorageControl,
    &https::HttpsControl,
    &exposure::ExposureControl,
    &browser::OriginControl,
    &browser::CookiesControl,
    &browser_headers::HstsControl,
    &browser_headers::FramingControl,
    &browser::UrlTokensControl,
    &secrets::SecretsControl,
    &access::AccessControl,
    &access::HubRoles,
    &internal_tls::InternalTlsControl,
    &network_policy::NetworkPolicyControl,
    &egress::EgressControl,
    &egress_names::EgressNames,
    &bandwidth::BandwidthControl,
    &resources::ResourcesControl,
    &quota::QuotaControl,
    &pids::PidsControl,
    &images::PullPolicyControl,
    &images::ImagePinning,
    &profile_list::ProfileImages,
    &profile_list::ProfileWeakening,
    &admission::AdmissionControl,
];

/// The controls of the posture summary that heads every diff report, in
/// reading order (their titles label the rows): what a reviewer asks first.
/// Named by their types, so a renamed or removed control fails to compile.
pub static POSTURE: &[&dyn Control] = &[
    &pod_level::UserPodLevel,
    &pod_security::PodSecurityAdmission,
    &api_access::ApiAccessControl,
    &cloud_metadata::CloudMetadataControl,
    &egress::EgressControl,
    &storage::StorageControl,
    &resources::ResourcesControl,
];

/// The setting a control reads back, or `None` when it cannot be verified.
pub fn read_setting(c: &(impl Control + ?Sized), v: &ValuesView) -> Option<Selected> {
    match c.read_back(v) {
        ReadBack::Setting(s) => Some(s),
        ReadBack::CannotVerify { .. } => None,
    }
}

pub fn by_id(id: &str) -> Option<&'static dyn Control> {
    ALL.iter().copied().find(|c| c.def().id == id)
}

/// The effective reading wins; where it agrees with the key-based one on
/// the setting, the key-based detail is kept (it names the policy's own
/// parameters), with the effective origin.
pub fn reconcile(keys: ReadBack, effective: Judgement) -> Judgement {
    match (&keys, &effective.read_back) {
        (ReadBack::Setting(k), ReadBack::Setting(e)) if k.is(e.setting) => Judgement {
            read_back: ReadBack::Setting(Selected {
                setting: k.setting,
                detail: k.detail.clone().or_else(|| e.detail.clone()),
            }),
            ..effective
        },
        _ => effective,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings are known by identity: each is listed once, names are
    /// unique, strength never increases along the list, and what only
    /// deployments show belongs to the control.
    #[test]
    fn every_definition_lists_its_settings_once_strongest_first() {
        let mut ids = std::collections::BTreeSet::new();
        for c in ALL {
            let def = c.def();
            assert!(ids.insert(def.id), "{}: two controls share the id", def.id);
            assert!(!def.settings.is_empty(), "{}: no settings", def.id);
            assert!(
                def.settings.first().is_some_and(|s| s.rank == 0),
                "{}: the strongest setting has rank 0",
                def.id
            );
            for (i, s) in def.settings.iter().enumerate() {
                assert_eq!(
                    def.position(s),
                    Some(i),
                    "{}: `{}` listed twice",
                    def.id,
                    s.name
                );
                assert_eq!(
                    def.settings.iter().filter(|x| x.name == s.name).count(),
                    1,
                    "{}: two settings named `{}`",
                    def.id,
                    s.name
                );
                assert!(def.setting(&s.selected()).name == s.name);
            }
            for w in def.settings.windows(2) {
                assert!(
                    w[0].rank <= w[1].rank,
                    "{}: `{}` (rank {}) is listed before the stronger `{}` (rank {}); list settings strongest first",
                    def.id,
                    w[0].name,
                    w[0].rank,
                    w[1].name,
                    w[1].rank
                );
            }
            for f in c.found_only() {
                assert!(
                    def.position(f).is_some(),
                    "{}: found-only `{}` is not one of its settings",
                    def.id,
                    f.name
                );
            }
        }
    }

    /// A control built from another names one that exists.
    #[test]
    fn built_from_names_controls() {
        for c in ALL {
            for id in c.built_from() {
                assert!(
                    by_id(id).is_some(),
                    "{}: built from `{id}`, which is no control",
                    c.def().id
                );
            }
        }
    }

    /// A posture row is a control of `ALL`, each at most once.
    #[test]
    fn every_posture_row_is_a_control_of_all() {
        for (i, c) in POSTURE.iter().enumerate() {
            let id = c.def().id;
            assert!(
                ALL.iter().any(|x| std::ptr::eq(x.def(), c.def())),
                "posture row `{id}` is not in ALL"
            );
            assert!(
                !POSTURE[..i].iter().any(|x| std::ptr::eq(x.def(), c.def())),
                "posture row `{id}` is listed twice"
            );
        }
    }

    /// No two controls share a setting: a setting named in one control's
    /// code cannot stand for another's.
    #[test]
    fn no_setting_belongs_to_two_controls() {
        let all: Vec<(&str, &Setting)> = ALL
            .iter()
            .flat_map(|c| c.def().settings.iter().map(move |s| (c.def().id, *s)))
            .collect();
        for (i, (a, s)) in all.iter().enumerate() {
            for (b, t) in &all[i + 1..] {
                assert!(
                    !std::ptr::eq(*s, *t),
                    "`{}` is a setting of both {a} and {b}",
                    s.name
                );
            }
        }
    }

    #[test]
    fn a_setting_is_not_one_that_looks_alike() {
        static A: Setting = Setting {
            name: "a",
            rank: 0,
            summary: "",
        };
        static B: Setting = Setting {
            name: "a",
            rank: 0,
            summary: "",
        };
        assert!(A.selected().is(&A));
        assert!(!A.selected().is(&B));
        assert_ne!(A.selected(), B.selected());
        assert_eq!(A.with("x"), A.with("x"));
        assert_ne!(A.with("x"), A.selected());
    }
}

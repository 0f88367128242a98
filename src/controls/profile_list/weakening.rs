//! `profile-weakening`: no profile or option makes a control weaker than the default user pod.

use super::LIST_KEYS;
use crate::controls::lowering::Lowering;
use crate::controls::{
    ALL, Control, ControlDef, Judgement, ReadBack, Setting, ValuesView, read_setting, value_of,
};
use crate::effective::Origin;
use crate::plan::Selected;
use crate::policy::{MayWeaken, Policy};

pub struct ProfileWeakening;

/// Settings of `profile-weakening`.
pub(crate) mod weaken {
    use crate::controls::Setting;
    use crate::policy::MayWeaken;

    pub static NONE: Setting = Setting {
        name: "none",
        rank: 0,
        summary: "no profile or option makes a control weaker than the hub's default user pod",
    };
    pub static ANY: Setting = Setting {
        name: "any",
        rank: 1,
        summary: "a profile may override any KubeSpawner setting (the admission policy still holds its pods)",
    };

    pub const MODES: [MayWeaken; 2] = [MayWeaken::None, MayWeaken::Any];

    pub fn of(m: MayWeaken) -> &'static Setting {
        match m {
            MayWeaken::None => &NONE,
            MayWeaken::Any => &ANY,
        }
    }
}

pub(super) static WEAKEN: ControlDef = ControlDef {
    id: "profile-weakening",
    title: "Profiles that weaken a control",
    field: "/spec/profiles/mayWeaken",
    rationale: "A profile's `kubespawner_override` replaces any KubeSpawner setting for the users who pick it: one \
        entry can make servers privileged, mount the node or give them a token, and it reads like a harmless menu item.",
    settings: &[&weaken::NONE, &weaken::ANY],
    values_keys: LIST_KEYS,
    read_only_keys: LIST_KEYS,
    spawner_traits: &[],
};

/// The rank and origin a control reads on `view`'s pods.
fn reading(c: &dyn Control, view: &ValuesView) -> Option<(&'static Setting, Option<Origin>)> {
    let j = c.judge(view);
    match j.read_back {
        ReadBack::Setting(s) => Some((s.setting, j.by)),
        ReadBack::CannotVerify { .. } => None,
    }
}

/// An exception in force lets this pod's profile (or every pod) hold
/// `control` at a setting of rank `rank`.
fn excused(v: &ValuesView, pod: &crate::effective::Pod, control: &str, rank: u8) -> bool {
    let slug = pod.profile.and_then(|i| {
        crate::assess::profiles::LISTS.iter().find_map(|list| {
            let p = crate::values::get(v.values, list)?.get(i)?.as_object()?;
            Some(crate::effective::profiles::profile_slug(p, i))
        })
    });
    v.more.excused.iter().any(|(scope, id, allow)| {
        *id == control
            && rank <= allow.rank
            && scope
                .as_ref()
                .is_none_or(|s| slug.as_deref() == Some(s.as_str()))
    })
}

impl Control for ProfileWeakening {
    fn reads_profiles(&self) -> bool {
        true
    }
    fn def(&self) -> &'static ControlDef {
        &WEAKEN
    }
    fn admission_gap(&self) -> Option<&'static str> {
        Some(
            "a pod does not say which profile built it; the other controls' validations hold every user pod",
        )
    }
    fn selected(&self, p: &Policy) -> Selected {
        weaken::of(p.spec.profiles.may_weaken).selected()
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        if p.spec.profiles.may_weaken == MayWeaken::Any
            && p.spec.admission.mode == crate::policy::AdmissionMode::Deny
        {
            cx.note(
                WEAKEN.field,
                "profiles may weaken controls, but the admission policy (`admission.mode: deny`) refuses the pods of a profile that does",
            );
        }
    }
    fn judge(&self, v: &ValuesView) -> Judgement {
        let pods = v.pods();
        let cannot = |w: &crate::effective::spawner::Wildcard| Judgement {
            read_back: ReadBack::CannotVerify {
                reason: format!("{}: {}", w.what, w.origin.describe()),
            },
            by: Some(w.origin.clone()),
            unverified: None,
            exposes: false,
        };
        // Code that replaces the whole pod (a computed profile list, a hook).
        let whole: Vec<&crate::effective::spawner::Wildcard> = pods
            .iter()
            .flat_map(|(p, _)| p.unknown.iter().filter(|(k, _)| k.is_empty()))
            .map(|(_, w)| w)
            .collect();
        if let Some(w) = whole.iter().find(|w| w.what.contains("profile list")) {
            return cannot(w);
        }
        if pods
            .iter()
            .all(|(p, _)| p.profile.is_none() && !p.label.starts_with("profile"))
        {
            return Judgement::plain(ReadBack::Setting(weaken::NONE.with("no profiles")));
        }
        if let Some(w) = whole.first() {
            return cannot(w);
        }
        let base = v.base_deployment();
        let base_pods: Vec<_> = base.pods.iter().collect();
        // Every other control: one that does not read pods reads the same
        // on both sides.
        let controls: Vec<&dyn Control> = ALL
            .iter()
            .copied()
            .filter(|c| !matches!(c.def().id, "profile-images" | "profile-weakening"))
            .collect();
        // Each control apart (in parallel): its reading on the default pod,
        // then on each profile's pod. A control that reads the same with no
        // pod at all reads no pod, and no profile changes it.
        let per_control = crate::par::map(&controls, crate::par::cores(), |c| {
            let mut out: Vec<(String, Option<Origin>)> = Vec::new();
            let Some((was, _)) = reading(*c, &v.narrowed(base_pods.clone())) else {
                return out;
            };
            if reading(*c, &v.narrowed(Vec::new())).is_some_and(|(s, _)| std::ptr::eq(s, was)) {
                return out;
            }
            // A reading over every pod is the weakest of the pods' own: when
            // it is no weaker than the default pod's, no profile weakens it
            // (the main judgement, made once and shared with `assess`).
            if let ReadBack::Setting(all) = v.judgement(*c).read_back
                && all.setting.rank <= was.rank
            {
                return out;
            }
            for pod in &pods {
                let Some((now, by)) = reading(*c, &v.narrowed(vec![*pod])) else {
                    continue;
                };
                if now.rank > was.rank && !excused(v, &pod.0, c.def().id, now.rank) {
                    out.push((
                        format!(
                            "{} makes `{}` `{}` (the hub's default pod: `{}`)",
                            pod.0.label,
                            c.def().id,
                            now.name,
                            was.name
                        ),
                        by,
                    ));
                }
            }
            out
        });
        let found: Vec<(String, Option<Origin>)> = per_control.into_iter().flatten().collect();
        match found.first() {
            None => Judgement::plain(ReadBack::Setting(weaken::NONE.selected())),
            Some((_, by)) => Judgement {
                by: by.clone(),
                ..Judgement::plain(ReadBack::Setting(
                    weaken::ANY.with(
                        found
                            .iter()
                            .map(|(d, _)| d.as_str())
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                ))
            },
        }
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        if let Some(got) = read_setting(self, v) {
            p.spec.profiles.may_weaken =
                value_of(&weaken::MODES, weaken::of, &got).unwrap_or(MayWeaken::Any);
        }
        Vec::new()
    }
}

/// `profile-weakening` skips a control whose reading over every pod is no
/// weaker than the default pod's. That holds only if a reading over many
/// pods is never stronger than one of them alone: checked on every
/// deployment fixture that builds several pods.
#[cfg(test)]
mod aggregation_tests {
    use super::*;
    use crate::assess::{Installed, values_from_text};
    use crate::chart::ChartSource;
    use serde_json::Value;

    fn strs(v: Option<&Value>) -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn a_reading_over_every_pod_is_never_stronger_than_one_pod_alone() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/deployments");
        let mut dirs: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("case.yaml").is_file())
            .collect();
        dirs.sort();
        let (mut cases, mut compared) = (0, 0);
        for dir in dirs {
            let case = crate::yaml::parse(&std::fs::read_to_string(dir.join("case.yaml")).unwrap())
                .unwrap()
                .value;
            if case.get("valuesKey").is_some() || case.get("expectError").is_some() {
                continue;
            }
            let files = strs(case.get("values"))
                .iter()
                .map(|f| {
                    values_from_text(f, std::fs::read_to_string(dir.join(f)).unwrap()).unwrap()
                })
                .collect();
            let manifests = strs(case.get("manifests"))
                .iter()
                .flat_map(|f| {
                    crate::yaml::parse_stream(&std::fs::read_to_string(dir.join(f)).unwrap())
                        .unwrap()
                })
                .collect::<Vec<_>>();
            let version = case.get("chartVersion").and_then(Value::as_str).unwrap();
            let installed = Installed::new(
                files,
                Some(&ChartSource::Release(version.into())),
                (!manifests.is_empty()).then_some(manifests),
            )
            .unwrap();
            let merged = installed.merged();
            let view = installed.view(&merged);
            let pods = view.pods();
            if pods.len() < 2 {
                continue;
            }
            cases += 1;
            for c in ALL
                .iter()
                .filter(|c| !matches!(c.def().id, "profile-images" | "profile-weakening"))
            {
                let ReadBack::Setting(all) = c.judge(&view).read_back else {
                    continue;
                };
                for pod in &pods {
                    if let Some((one, _)) = reading(*c, &view.narrowed(vec![*pod])) {
                        compared += 1;
                        assert!(
                            one.rank <= all.setting.rank,
                            "{}: `{}` reads `{}` on {} alone but `{}` over every pod",
                            dir.display(),
                            c.def().id,
                            one.name,
                            pod.0.label,
                            all.setting.name
                        );
                    }
                }
            }
        }
        assert!(
            cases >= 8 && compared >= 500,
            "{cases} cases, {compared} readings"
        );
    }
}

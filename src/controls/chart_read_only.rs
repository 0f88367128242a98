//! Read-only root file systems for the chart's own containers (hub, proxy,
//! autohttps, user scheduler and placeholders, image pullers).
//!
//! What each writes, read in the images and programs the chart runs:
//! JupyterHub writes its sqlite database (and journal) in its working
//! directory `/srv/jupyterhub` (the chart's PVC with `hub.db.type:
//! sqlite-pvc`) and, at every start, a temporary `alembic.ini` through
//! Python's `tempfile` (`jupyterhub/dbutil.py`). Python falls back from
//! `/tmp` to the working directory, so a hub with neither writable stops
//! with "No usable temporary directory". configurable-http-proxy writes
//! nothing. Traefik writes only its ACME store, `/etc/acme/acme.json`, and
//! secret-sync only copies it there: both on the chart's `certificates`
//! emptyDir. kube-scheduler keeps its self-signed serving certificate in
//! memory (no `--cert-dir`). The pause containers, the image pullers
//! (`echo`) and the hook's image awaiter write nothing.

use serde_json::{Value, json};

use super::chart_pods::{CONTAINER_CONTEXTS, chart_container_runs};
use super::{Control, ControlDef, Judgement, ReadBack, ValuesView};
use crate::admission::Validation;
use crate::admission::cel::{self, Lists};
use crate::controls::lowering::Lowering;
use crate::effective::Origin;
use crate::plan::Selected;
use crate::policy::Policy;

pub struct ChartReadOnlyRoot;

/// Settings of `chart-read-only-root`.
pub(crate) mod read_only {
    use crate::controls::Setting;

    pub static READ_ONLY: Setting = Setting {
        name: "read-only",
        rank: 0,
        summary: "`readOnlyRootFilesystem: true` on every chart container; an emptyDir at the hub's /tmp",
    };
    pub static WRITABLE: Setting = Setting {
        name: "writable",
        rank: 1,
        summary: "chart containers may write anywhere in their images' file systems (the chart's default)",
    };
    pub static HUB_CANNOT_START: Setting = Setting {
        name: "read-only-without-tmp",
        rank: 2,
        summary: "the hub's root file system is read-only with no writable /tmp and no PVC at /srv/jupyterhub: JupyterHub stops at start (\"No usable temporary directory\")",
    };
}

static FOUND_ONLY: &[&crate::controls::Setting] = &[&read_only::HUB_CANNOT_START];

static DEF: ControlDef = ControlDef {
    id: "chart-read-only-root",
    title: "Read-only root file system of the chart's own containers",
    field: "/spec/chartPods/readOnlyRootFilesystem",
    rationale: "The hub holds the cookie secret, the proxy token and every user's API tokens, and the proxy sees \
        every request: code that gets into either through a bug could change the programs and libraries they \
        run and stay there across requests. A read-only image keeps what can change to the volumes the chart \
        mounts. Extra Python in `hub.extraConfig` that writes files (or pip-installs at start) must write under \
        /tmp or /srv/jupyterhub.",
    settings: &[
        &read_only::READ_ONLY,
        &read_only::WRITABLE,
        &read_only::HUB_CANNOT_START,
    ],
    values_keys: &[
        "hub.containerSecurityContext.readOnlyRootFilesystem",
        "proxy.chp.containerSecurityContext.readOnlyRootFilesystem",
        "proxy.traefik.containerSecurityContext.readOnlyRootFilesystem",
        "proxy.secretSync.containerSecurityContext.readOnlyRootFilesystem",
        "scheduling.userScheduler.containerSecurityContext.readOnlyRootFilesystem",
        "scheduling.userPlaceholder.containerSecurityContext.readOnlyRootFilesystem",
        "prePuller.containerSecurityContext.readOnlyRootFilesystem",
        "prePuller.hook.containerSecurityContext.readOnlyRootFilesystem",
        "prePuller.pause.containerSecurityContext.readOnlyRootFilesystem",
        "hub.extraVolumes",
        "hub.extraVolumeMounts",
        "hub.db.type",
        "hub.extraConfig",
    ],
    read_only_keys: &["hub.db.type", "hub.extraConfig"],
    spawner_traits: &[],
};

const HUB_CTX: &[&str] = &["hub", "containerSecurityContext"];
/// JupyterHub's working directory in the hub image, where the chart mounts
/// the database PVC.
const HUB_WORKDIR: &str = "/srv/jupyterhub";
const HUB_TMP: &str = "/tmp";
const TMP_VOLUME: &str = "chart-writable-tmp";

fn key<'a>(base: &[&'a str]) -> Vec<&'a str> {
    base.iter()
        .copied()
        .chain(std::iter::once("readOnlyRootFilesystem"))
        .collect()
}

/// Whether the chart renders the hub's database PVC at its working directory.
fn hub_has_pvc(v: &ValuesView) -> bool {
    v.str(&["hub", "db", "type"]).unwrap_or("sqlite-pvc") == "sqlite-pvc"
}

/// The hub's extra mount at `path`, when a volume of `hub.extraVolumes`
/// backs it (a mount without its volume is refused by the API server).
fn hub_mount<'v>(v: &'v ValuesView, path: &str) -> Option<&'v str> {
    let mounts = v.get(&["hub", "extraVolumeMounts"])?.as_array()?;
    let volumes = v
        .get(&["hub", "extraVolumes"])
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    mounts
        .iter()
        .filter(|m| {
            m.get("mountPath")
                .and_then(Value::as_str)
                .is_some_and(|p| p.trim_end_matches('/') == path)
                && m.get("readOnly") != Some(&Value::Bool(true))
        })
        .filter_map(|m| m.get("name").and_then(Value::as_str))
        .find(|name| {
            volumes
                .iter()
                .any(|vol| vol.get("name").and_then(Value::as_str) == Some(name))
        })
}

/// Where a read-only hub can still write its temporary files (Python tries
/// /tmp, /var/tmp, /usr/tmp, then the working directory): `None` when
/// nowhere, else what a reader should know (nothing for a /tmp volume).
fn hub_scratch(v: &ValuesView) -> Option<Option<String>> {
    if hub_mount(v, HUB_TMP).is_some() {
        return Some(None);
    }
    if let Some(name) = hub_mount(v, HUB_WORKDIR) {
        return Some(Some(format!(
            "no /tmp: temporary files go to {HUB_WORKDIR} (the volume `{name}`)"
        )));
    }
    hub_has_pvc(v).then(|| {
        Some(format!(
            "no /tmp: temporary files go to the database PVC at {HUB_WORKDIR}"
        ))
    })
}

impl Control for ChartReadOnlyRoot {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn found_only(&self) -> &'static [&'static crate::controls::Setting] {
        FOUND_ONLY
    }
    fn selected(&self, p: &Policy) -> Selected {
        if p.spec.chart_pods.read_only_root_filesystem {
            read_only::READ_ONLY.selected()
        } else {
            read_only::WRITABLE.selected()
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        if !p.spec.chart_pods.read_only_root_filesystem {
            return;
        }
        for base in CONTAINER_CONTEXTS {
            cx.set(&key(base), json!(true));
        }
        // Always: with `hub.db.type` other than sqlite-pvc (set in values the
        // policy does not see) /tmp is the hub's only writable directory.
        cx.append(
            &["hub", "extraVolumes"],
            json!({"name": TMP_VOLUME, "emptyDir": {}}),
        );
        cx.append(
            &["hub", "extraVolumeMounts"],
            json!({"name": TMP_VOLUME, "mountPath": HUB_TMP}),
        );
        cx.note(
            DEF.field,
            "chart containers write only to their volumes: the hub to /srv/jupyterhub (the database PVC with `hub.db.type: sqlite-pvc`) and to the emptyDir at /tmp (a temporary alembic.ini at every start); traefik and secret-sync to the chart's `certificates` emptyDir (/etc/acme/acme.json); the proxy, kube-scheduler, the pause containers and the image pullers write nothing. Python in `hub.extraConfig` that writes files must write under /tmp or /srv/jupyterhub",
        );
        cx.note(
            DEF.field,
            "the policy's values set the lists `hub.extraVolumes` and `hub.extraVolumeMounts`, and Helm replaces lists whole: volumes listed there in an earlier values file are dropped. List your own after the policy's values, together with its `chart-writable-tmp` entries",
        );
    }
    fn judge(&self, v: &ValuesView) -> Judgement {
        let ro = |base: &[&str]| v.get(&key(base)) == Some(&Value::Bool(true));
        let writable: Vec<&[&str]> = CONTAINER_CONTEXTS
            .iter()
            .copied()
            .filter(|base| chart_container_runs(v, base) && !ro(base))
            .collect();
        let hub_ro = ro(HUB_CTX);
        let scratch = hub_ro.then(|| hub_scratch(v)).flatten();
        if hub_ro && scratch.is_none() {
            let db = v.str(&["hub", "db", "type"]).unwrap_or("sqlite-pvc");
            return Judgement {
                by: Some(Origin::values(&key(HUB_CTX))),
                ..Judgement::plain(ReadBack::Setting(read_only::HUB_CANNOT_START.with(format!(
                    "hub.extraVolumeMounts has no writable /tmp and `hub.db.type: {db}` mounts no PVC at {HUB_WORKDIR}"
                ))))
            };
        }
        if let Some(first) = writable.first() {
            let names: Vec<String> = writable.iter().map(|b| b.join(".")).collect();
            return Judgement {
                by: Some(Origin::values(&key(first))),
                ..Judgement::plain(ReadBack::Setting(
                    read_only::WRITABLE.with(names.join(", ")),
                ))
            };
        }
        let mut j = Judgement {
            by: Some(Origin::values(&key(HUB_CTX))),
            ..Judgement::plain(ReadBack::Setting(match scratch.flatten() {
                Some(detail) => read_only::READ_ONLY.with(detail),
                None => read_only::READ_ONLY.selected(),
            }))
        };
        if crate::effective::spawner::truthy(v.get(&["hub", "extraConfig"])) {
            j.unverified = Some((
                "hub.extraConfig runs Python at start; whether it writes outside /tmp and /srv/jupyterhub is not in the values".into(),
                Origin::values(&["hub", "extraConfig"]),
            ));
        }
        j
    }
    fn admission(&self, p: &Policy) -> Vec<Validation> {
        if !p.spec.chart_pods.read_only_root_filesystem {
            return Vec::new();
        }
        vec![Validation::chart(
            DEF.field,
            "every container must set readOnlyRootFilesystem: true",
            cel::every_container(
                Lists::All,
                &cel::own_field("readOnlyRootFilesystem", |f| format!("{f} == true")),
                None,
            ),
        )]
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        p.spec.chart_pods.read_only_root_filesystem = got.is(&read_only::READ_ONLY);
        if got.is(&read_only::HUB_CANNOT_START) {
            return vec!["the hub's root file system is read-only without a writable /tmp and the hub cannot start; `chartPods.readOnlyRootFilesystem: false` is proposed (set it to `true` to have the policy mount an emptyDir at /tmp)".into()];
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::chart::ChartLine;
    use crate::controls::ViewMore;

    fn judge(values: Value) -> Judgement {
        let view = ValuesView {
            values: &values,
            defaults: &Value::Null,
            manifests: None,
            chart: ChartLine::V4,
            more: ViewMore::default(),
        };
        ChartReadOnlyRoot.judge(&view)
    }

    /// Values with every chart container read-only, the scheduler and
    /// pullers on, and `hub` merged over them.
    fn all_read_only(hub: Value) -> Value {
        let mut v = json!({
            "proxy": {"chp": {}, "https": {"enabled": false}},
            "scheduling": {"userScheduler": {"enabled": true}, "userPlaceholder": {}},
            "prePuller": {"hook": {"enabled": true}, "continuous": {"enabled": true}, "pause": {}},
        });
        for base in CONTAINER_CONTEXTS {
            let mut at = &mut v;
            for k in base.iter() {
                at = at
                    .as_object_mut()
                    .unwrap()
                    .entry(k.to_string())
                    .or_insert(json!({}));
            }
            at["readOnlyRootFilesystem"] = json!(true);
        }
        for (k, x) in hub.as_object().unwrap() {
            v["hub"][k] = x.clone();
        }
        v
    }

    fn setting(j: &Judgement) -> (&'static str, Option<String>) {
        match &j.read_back {
            ReadBack::Setting(s) => (s.setting.name, s.detail.clone()),
            ReadBack::CannotVerify { reason } => panic!("cannot verify: {reason}"),
        }
    }

    #[test]
    fn read_only_with_tmp_holds() {
        let j = judge(all_read_only(json!({
            "db": {"type": "sqlite-memory"},
            "extraVolumes": [{"name": "t", "emptyDir": {}}],
            "extraVolumeMounts": [{"name": "t", "mountPath": "/tmp"}],
        })));
        assert_eq!(setting(&j), ("read-only", None));
        assert!(j.unverified.is_none());
    }

    #[test]
    fn hub_without_tmp_or_pvc_cannot_start() {
        let j = judge(all_read_only(json!({"db": {"type": "postgres"}})));
        let (name, detail) = setting(&j);
        assert_eq!(name, "read-only-without-tmp");
        assert!(detail.unwrap().contains("`hub.db.type: postgres`"));
        // A mount without its volume does not count.
        let j = judge(all_read_only(json!({
            "db": {"type": "sqlite-memory"},
            "extraVolumeMounts": [{"name": "t", "mountPath": "/tmp"}],
        })));
        assert_eq!(setting(&j).0, "read-only-without-tmp");
    }

    #[test]
    fn the_pvc_is_the_hubs_scratch_space_without_tmp() {
        let j = judge(all_read_only(json!({})));
        let (name, detail) = setting(&j);
        assert_eq!(name, "read-only");
        assert!(detail.unwrap().contains("database PVC"));
    }

    #[test]
    fn a_writable_container_is_named() {
        let mut v = all_read_only(json!({}));
        v["proxy"]["chp"]["containerSecurityContext"]["readOnlyRootFilesystem"] = json!(false);
        let (name, detail) = setting(&judge(v));
        assert_eq!(name, "writable");
        assert_eq!(
            detail.as_deref(),
            Some("proxy.chp.containerSecurityContext")
        );
    }

    #[test]
    fn containers_the_chart_does_not_run_are_not_graded() {
        let mut v = all_read_only(json!({}));
        // autohttps is off (no https): its containers' contexts do not matter.
        v["proxy"]["traefik"]["containerSecurityContext"] = json!({});
        v["proxy"]["secretSync"]["containerSecurityContext"] = json!({});
        assert_eq!(setting(&judge(v)).0, "read-only");
    }

    #[test]
    fn extra_config_leaves_a_pass_unverified() {
        let j = judge(all_read_only(
            json!({"extraConfig": {"x": "open('/etc/x', 'w')"}}),
        ));
        assert_eq!(setting(&j).0, "read-only");
        assert!(j.unverified.is_some());
    }
}

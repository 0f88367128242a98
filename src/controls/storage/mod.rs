//! Home directories: none, a block volume per user, or NFS (one volume per
//! user, or one shared volume with a subPath per user).
//!
//! Read back from the effective user pods: every mount of a volume that
//! outlives the pod, in every container of every profile's pod, is
//! classified by whose files it reaches — decided on the templates
//! KubeSpawner expands (`{username}` in a claim name, an NFS path or a
//! `subPath`), not on the storage keys. A shared volume mounted writable
//! without a per-user `subPath` is weaker than any setting a policy can
//! select.

use serde_json::{Value, json};

use super::{Control, ControlDef, Judgement, ReadBack, Setting, ValuesView};
use crate::chart::ChartLine;
use crate::controls::lowering::Lowering;
use crate::plan::Selected;
use crate::policy::{NfsIsolation, NfsOnDelete, NfsStorage, NfsStorageClass, Policy, StorageType};
use crate::validate::formats::{k8s_subdomain, sub_path_fields};

mod lower;
mod read_back;

use lower::{lower_block, lower_nfs};
use read_back::classify;

pub struct StorageControl;

static NONE: Setting = Setting {
    name: "none",
    rank: 0,
    summary: "no persistent home; nothing outlives the server",
};
static BLOCK: Setting = Setting {
    name: "block",
    rank: 1,
    summary: "a block PVC per user, group-owned through fsGroup (one attach per node slot; costs per volume)",
};
static NFS_PER_USER: Setting = Setting {
    name: "nfs-per-user-volume",
    rank: 2,
    summary: "one NFS directory per user through the nfs-subdir-external-provisioner StorageClass (directories are mode 0777; capacity not enforced)",
};
static SHARED_SUBPATH: Setting = Setting {
    name: "nfs-shared-subpath",
    rank: 3,
    summary: "one shared NFS volume, each user mounting a subPath (a breakout exposes every home)",
};
static SHARED: Setting = Setting {
    name: "shared-volume",
    rank: 4,
    summary: "a volume every user mounts writable without a per-user subPath, or the home share mounted whole: every user reaches every user's files (found in deployments; no policy selects it)",
};

static DEF: ControlDef = ControlDef {
    id: "storage",
    title: "Home directory storage and its isolation",
    field: "/spec/storage/type",
    rationale: "How homes are stored decides what a container breakout exposes: one user's volume, or every user's files.",
    settings: &[&NONE, &BLOCK, &NFS_PER_USER, &SHARED_SUBPATH, &SHARED],
    values_keys: &[
        "singleuser.storage.type",
        "singleuser.storage.static.pvcName",
        "singleuser.storage.static.subPath",
        "singleuser.storage.dynamic.storageClass",
        "singleuser.storage.dynamic.storageAccessModes",
        "singleuser.storage.capacity",
        "singleuser.storage.extraVolumes",
        "singleuser.storage.extraVolumeMounts",
    ],
    read_only_keys: &[
        "singleuser.storage.extraVolumes",
        "singleuser.storage.extraVolumeMounts",
    ],
    spawner_traits: &[
        "volumes",
        "volume_mounts",
        "storage_class",
        "storage_access_modes",
        "pvc_name_template",
        "storage_pvc_ensure",
        "extra_pod_config",
        "extra_container_config",
        "extra_containers",
    ],
};

const PTR: &str = "/spec/storage";

impl Control for StorageControl {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn found_only(&self) -> &'static [&'static Setting] {
        static FOUND_ONLY: [&Setting; 1] = [&SHARED];
        &FOUND_ONLY
    }
    fn admission_gap(&self) -> Option<&'static str> {
        Some(
            "whose files a volume reaches depends on the server, path and storage class behind its claim, which the pod spec does not show (a hostPath volume is refused under `admission`)",
        )
    }
    fn selected(&self, p: &Policy) -> Selected {
        let s = &p.spec.storage;
        match s.kind {
            StorageType::None => NONE.selected(),
            StorageType::Block => BLOCK.with(s.capacity.clone()),
            StorageType::Nfs => match s.nfs.as_ref().map(|n| n.isolation) {
                Some(NfsIsolation::SharedSubpath) => SHARED_SUBPATH.selected(),
                _ => NFS_PER_USER.with(s.capacity.clone()),
            },
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let s = &p.spec.storage;
        match s.kind {
            StorageType::None => {
                cx.set(&["singleuser", "storage", "type"], json!("none"));
                cx.note(
                    DEF.field,
                    "user servers have no persistent home: files are lost when a server stops",
                );
            }
            StorageType::Block => lower_block(p, cx),
            StorageType::Nfs => lower_nfs(p, cx),
        }
    }
    fn judge(&self, v: &ValuesView) -> Judgement {
        // Classes whose provisioner serves NFS directories.
        let nfs_classes: Vec<String> = v
            .manifests
            .unwrap_or_default()
            .iter()
            .filter(|m| {
                m["kind"] == "StorageClass"
                    && m["provisioner"].as_str().is_some_and(|p| p.contains("nfs"))
            })
            .filter_map(|m| m.pointer("/metadata/name").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        let mut j = v.judge_pods(&DEF, |pod, _| classify(pod, &nfs_classes));
        // Every user reaching every user's files is high whatever the policy.
        j.exposes = matches!(&j.read_back, ReadBack::Setting(s) if s.is(&SHARED));
        j
    }
    fn parameters(&self, p: &Policy, v: &ValuesView) -> Vec<String> {
        let Some(nfs) = p
            .spec
            .storage
            .nfs
            .as_ref()
            .filter(|_| p.spec.storage.kind == StorageType::Nfs)
            .filter(|n| n.isolation == NfsIsolation::SharedSubpath)
        else {
            return Vec::new();
        };
        if super::read_setting(self, v).is_none_or(|got| !got.is(&SHARED_SUBPATH)) {
            return Vec::new();
        }
        let (claim, sub) = shared_claim(p, nfs);
        let mut out = Vec::new();
        let got = v.str(&["singleuser", "storage", "static", "pvcName"]);
        if got != Some(claim.as_str()) {
            out.push(format!(
                "homes are on the claim {}, the policy's is `{claim}`",
                got.map_or_else(|| "(none)".to_string(), |c| format!("`{c}`"))
            ));
        }
        let got = v
            .str(&["singleuser", "storage", "static", "subPath"])
            .unwrap_or("");
        if got != sub {
            out.push(format!(
                "each home is the subPath `{got}`, the policy's is `{sub}`"
            ));
        }
        out
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        let s = &mut p.spec.storage;
        if let Some(cap) = v
            .str(&["singleuser", "storage", "capacity"])
            .filter(|c| crate::validate::formats::quantity(c).is_ok())
        {
            s.capacity = cap.to_string();
        }
        let class = v.str(&["singleuser", "storage", "dynamic", "storageClass"]);
        let mut lost = Vec::new();
        if got.is(&NONE) {
            s.kind = StorageType::None;
        } else if got.is(&BLOCK) {
            s.kind = StorageType::Block;
            s.block = None;
            if let Some(c) = class {
                lost.push(format!("home volumes use the StorageClass `{c}`; `storage.block.storageClass` would also create the class, so the proposal leaves it to the cluster default — set it if the compiler should manage `{c}`"));
            }
        } else if got.is(&NFS_PER_USER) {
            s.kind = StorageType::Nfs;
            s.nfs = Some(NfsStorage {
                isolation: NfsIsolation::PerUserVolume,
                storage_class: Some(NfsStorageClass {
                    name: class
                        .filter(|c| crate::validate::formats::k8s_subdomain(c).is_ok())
                        .unwrap_or("jupyter-user-nfs")
                        .to_string(),
                    provisioner: "cluster.local/nfs-subdir-external-provisioner".into(),
                    on_delete: NfsOnDelete::Retain,
                }),
                server: None,
                path: None,
                existing_claim: None,
                sub_path: None,
            });
            lost.push("homes are ReadWriteMany volumes; review `storage.nfs.storageClass` (its provisioner is a placeholder)".into());
        } else {
            lost.extend(propose_static(v, p));
            if got.is(&SHARED) {
                lost.push(format!(
                        "every user reaches every user's files ({}); no policy can say that, so the proposal selects `nfs-shared-subpath` and `check` reports the deployment until each user mounts only their own directory",
                        got.detail.as_deref().unwrap_or("a shared volume mounted whole")
                    ));
            }
        }
        lost
    }
}

/// The claim and subPath a `shared-subpath` policy gives user pods.
fn shared_claim(p: &Policy, nfs: &NfsStorage) -> (String, String) {
    (
        nfs.existing_claim
            .clone()
            .unwrap_or_else(|| format!("{}-home-nfs", p.metadata.name)),
        nfs.sub_path
            .clone()
            .unwrap_or_else(|| DEFAULT_SUB_PATH.into()),
    )
}

/// The chart's default `singleuser.storage.static.subPath`.
const DEFAULT_SUB_PATH: &str = "{username}";

/// The subPath template fields the chart line's KubeSpawner knows
/// (`_expand_user_properties`: 6.x for chart 3.x, 7.x for chart 4.x).
fn line_fields(line: ChartLine) -> &'static [&'static str] {
    match line {
        ChartLine::V3 => &[
            "userid",
            "username",
            "legacy_escape_username",
            "servername",
            "hubnamespace",
        ],
        ChartLine::V4 => &[
            "userid",
            "username",
            "servername",
            "user_server",
            "safe_username",
            "safe_servername",
            "safe_user_server",
            "escaped_username",
            "escaped_servername",
            "escaped_user_server",
            "hubnamespace",
        ],
    }
}

/// Why a subPath cannot be used on a chart line, if it cannot.
fn sub_path_problem(sub: &str, line: ChartLine) -> Option<String> {
    match sub_path_fields(sub) {
        Err(e) => Some(e),
        Ok(fields) => fields
            .iter()
            .find(|f| !line_fields(line).contains(f))
            .map(|f| {
                format!(
                    "`{{{f}}}` is not a field of the chart {} line's KubeSpawner (it raises KeyError when the server starts)",
                    match line {
                        ChartLine::V3 => "3.x",
                        ChartLine::V4 => "4.x",
                    }
                )
            }),
    }
}

/// `singleuser.storage.type: static` as a policy: the existing claim and
/// its subPath pattern, kept as they are.
fn propose_static(v: &ValuesView, p: &mut Policy) -> Vec<String> {
    let mut lost = Vec::new();
    let claim = v.str(&["singleuser", "storage", "static", "pvcName"]);
    let sub = v
        .str(&["singleuser", "storage", "static", "subPath"])
        .unwrap_or("");
    let line = ChartLine::of(&p.chart);
    let sub_path = match sub_path_problem(sub, line) {
        None => (sub != DEFAULT_SUB_PATH).then(|| sub.to_string()),
        Some(why) => {
            lost.push(format!(
                "homes are at `singleuser.storage.static.subPath: {sub:?}`, which the policy cannot state ({why}); the proposal says `{DEFAULT_SUB_PATH}`, which moves every user to another directory"
            ));
            None
        }
    };
    let existing_claim = match claim.filter(|c| k8s_subdomain(c).is_ok()) {
        Some(c) => Some(c.to_string()),
        None => {
            lost.push(format!(
                "homes are subPaths of the claim {}, which is not a claim name; `storage.nfs.server` and `path` are placeholders",
                claim.map_or_else(|| "(none set)".to_string(), |c| format!("`{c}`"))
            ));
            None
        }
    };
    let placeholder = existing_claim.is_none();
    p.spec.storage.kind = StorageType::Nfs;
    p.spec.storage.nfs = Some(NfsStorage {
        isolation: NfsIsolation::SharedSubpath,
        storage_class: None,
        server: placeholder.then(|| "nfs.example.org".into()),
        path: placeholder.then(|| "/export/home".into()),
        existing_claim,
        sub_path,
    });
    lost
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effective::Deployment;
    use crate::effective::Origin;
    use crate::effective::grade::{self, Verdict};

    /// The chart's storage defaults (4.4.0) under `su`, merged shallowly.
    fn values(su: Value) -> Value {
        let mut storage = json!({
            "type": "dynamic", "homeMountPath": "/home/jovyan", "capacity": "10Gi",
            "static": {"pvcName": null, "subPath": "{username}"},
            "dynamic": {"storageClass": null, "pvcNameTemplate": null,
                        "volumeNameTemplate": "volume-{user_server}",
                        "storageAccessModes": ["ReadWriteOnce"], "subPath": null},
        });
        let mut su = su;
        if let Some(Value::Object(m)) = su.get_mut("storage").map(Value::take) {
            crate::values::helm_merge(&mut storage, &Value::Object(m));
        }
        su["storage"] = storage;
        json!({"singleuser": su})
    }

    /// (setting name, detail, origin) of the weakest pod, or `None` when unknown.
    fn read(v: &Value, classes: &[&str]) -> Option<(&'static str, Option<String>, Option<Origin>)> {
        let classes: Vec<String> = classes.iter().map(|c| c.to_string()).collect();
        let d = Deployment::build(v, Some("4.4.0"), &[]);
        match grade::over_pods(&d, DEF.weakest_rank(), |p, _| classify(p, &classes))? {
            Verdict::Found(f) => Some((f.setting.name, f.detail, f.by)),
            Verdict::Unknown { .. } => None,
        }
    }

    fn weakest(v: &Value) -> &'static str {
        read(v, &[]).map_or("?", |r| r.0)
    }

    fn origin(path: &str) -> Option<Origin> {
        Some(Origin::values(&path.split('.').collect::<Vec<_>>()))
    }

    #[test]
    fn a_claim_per_user_is_block_unless_its_modes_or_class_say_nfs() {
        let v = values(json!({}));
        let (i, detail, by) = read(&v, &[]).unwrap();
        assert_eq!((i, detail.as_deref()), (BLOCK.name, Some("10Gi")));
        assert_eq!(by, origin("singleuser.storage.type"));
        let rwx =
            values(json!({"storage": {"dynamic": {"storageAccessModes": ["ReadWriteMany"]}}}));
        let (i, _, by) = read(&rwx, &[]).unwrap();
        assert_eq!(i, NFS_PER_USER.name);
        assert_eq!(by, origin("singleuser.storage.dynamic.storageAccessModes"));
        let class = values(json!({"storage": {"dynamic": {"storageClass": "homes"}}}));
        assert_eq!(weakest(&class), BLOCK.name);
        assert_eq!(read(&class, &["homes"]).unwrap().0, NFS_PER_USER.name);
    }

    #[test]
    fn one_claim_name_for_everyone_is_a_shared_volume() {
        // `{pvc_name}` names the user only when its template does.
        let v = values(json!({"storage": {"dynamic": {"pvcNameTemplate": "course-home"}}}));
        let (i, detail, by) = read(&v, &[]).unwrap();
        assert_eq!(i, SHARED.name);
        assert!(
            detail
                .unwrap()
                .contains("claim `course-home` mounted whole")
        );
        assert_eq!(by, origin("singleuser.storage.dynamic.pvcNameTemplate"));
        let per_user =
            values(json!({"storage": {"dynamic": {"pvcNameTemplate": "home-{userid}"}}}));
        assert_eq!(weakest(&per_user), BLOCK.name);
    }

    #[test]
    fn a_shared_claim_with_a_per_user_subpath_cites_the_subpath() {
        let v = values(json!({"storage": {"type": "static", "static": {"pvcName": "home-nfs"}}}));
        let (i, detail, by) = read(&v, &[]).unwrap();
        assert_eq!(i, SHARED_SUBPATH.name);
        assert_eq!(
            detail.as_deref(),
            Some("claim `home-nfs`, subPath `{username}` per user")
        );
        assert_eq!(by, origin("singleuser.storage.static.subPath"));
        for sub in [
            "{escaped_username}",
            "homes/{user_server}",
            "{safe_username:.8}",
            "u{userid}",
        ] {
            let v = values(
                json!({"storage": {"type": "static", "static": {"pvcName": "home-nfs", "subPath": sub}}}),
            );
            assert_eq!(weakest(&v), SHARED_SUBPATH.name, "{sub}");
        }
        // The server's name, or braces escaped, are the same for every user.
        for sub in ["{servername}", "{{username}}", "shared"] {
            let v = values(
                json!({"storage": {"type": "static", "static": {"pvcName": "home-nfs", "subPath": sub}}}),
            );
            assert_eq!(weakest(&v), SHARED.name, "{sub}");
        }
    }

    #[test]
    fn a_shared_claim_mounted_whole_is_weaker_than_any_policy() {
        let v = values(
            json!({"storage": {"type": "static", "static": {"pvcName": "home-nfs", "subPath": ""}}}),
        );
        let (i, detail, by) = read(&v, &[]).unwrap();
        assert_eq!(i, SHARED.name);
        assert_eq!(
            detail.as_deref(),
            Some(
                "claim `home-nfs` mounted whole and writable at `/home/jovyan`: every user reads and writes every user's files"
            )
        );
        assert_eq!(by, origin("singleuser.storage.static.subPath"));
        assert!(StorageControl.found_only().iter().any(|s| s.name == i));
    }

    #[test]
    fn read_only_shared_data_keeps_users_apart_but_not_the_whole_home_share() {
        let data = json!({"storage": {
            "extraVolumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "datasets"}}],
            "extraVolumeMounts": [{"name": "data", "mountPath": "/home/jovyan/data", "readOnly": true}],
        }});
        assert_eq!(weakest(&values(data)), BLOCK.name);
        let all_homes = json!({"storage": {
            "type": "static", "static": {"pvcName": "home-nfs"},
            "extraVolumeMounts": [{"name": "home", "mountPath": "/srv/homes", "readOnly": true}],
        }});
        let (i, detail, by) = read(&values(all_homes), &[]).unwrap();
        assert_eq!(i, SHARED.name);
        assert!(
            detail
                .unwrap()
                .contains("every user reads every user's home")
        );
        assert_eq!(by, origin("singleuser.storage.extraVolumeMounts.0"));
        // A read-only shared directory of the home share is shared data.
        let shared_dir = json!({"storage": {
            "type": "static", "static": {"pvcName": "home-nfs"},
            "extraVolumeMounts": [{"name": "home", "mountPath": "/home/jovyan/shared", "subPath": "_shared", "readOnly": true}],
        }});
        assert_eq!(weakest(&values(shared_dir)), SHARED_SUBPATH.name);
        // Written to by everyone, it is shared.
        let writable = json!({"storage": {
            "type": "static", "static": {"pvcName": "home-nfs"},
            "extraVolumeMounts": [{"name": "home", "mountPath": "/home/jovyan/shared", "subPath": "_shared"}],
        }});
        let (i, _, by) = read(&values(writable), &[]).unwrap();
        assert_eq!(i, SHARED.name);
        assert_eq!(by, origin("singleuser.storage.extraVolumeMounts.0.subPath"));
    }

    #[test]
    fn host_paths_and_nfs_exports_count_by_their_path_template() {
        let host = |path: &str| {
            values(json!({"storage": {"type": "none",
                "extraVolumes": [{"name": "home", "hostPath": {"path": path}}],
                "extraVolumeMounts": [{"name": "home", "mountPath": "/home/jovyan"}]}}))
        };
        let (i, _, by) = read(&host("/srv/homes/{username}"), &[]).unwrap();
        assert_eq!(i, SHARED_SUBPATH.name);
        assert_eq!(
            by,
            origin("singleuser.storage.extraVolumes.0.hostPath.path")
        );
        assert_eq!(weakest(&host("/srv/homes")), SHARED.name);
        let nfs = |path: &str| {
            values(json!({"storage": {"type": "none",
                "extraVolumes": [{"name": "home", "nfs": {"server": "nfs.example.org", "path": path}}],
                "extraVolumeMounts": [{"name": "home", "mountPath": "/home/jovyan"}]}}))
        };
        assert_eq!(weakest(&nfs("/export/{username}")), NFS_PER_USER.name);
        assert_eq!(weakest(&nfs("/export")), SHARED.name);
        // Through extraPodConfig, which replaces the pod's volumes.
        let v = values(json!({"storage": {"type": "none",
            "extraVolumeMounts": [{"name": "home", "mountPath": "/home/jovyan"}]},
            "extraPodConfig": {"volumes": [{"name": "home", "hostPath": {"path": "/data"}}]}}));
        let (i, _, by) = read(&v, &[]).unwrap();
        assert_eq!(i, SHARED.name);
        assert_eq!(by, origin("singleuser.storage.extraVolumeMounts.0"));
    }

    #[test]
    fn pod_local_volumes_are_no_home() {
        let v = values(json!({"storage": {"type": "none",
            "extraVolumes": [{"name": "scratch", "emptyDir": {}}],
            "extraVolumeMounts": [{"name": "scratch", "mountPath": "/home/jovyan"}]}}));
        assert_eq!(read(&v, &[]).unwrap(), (NONE.name, None, None));
    }

    #[test]
    fn templates_kubespawner_does_not_expand_name_one_directory() {
        let mut v =
            values(json!({"storage": {"type": "static", "static": {"pvcName": "home-nfs"}}}));
        v["hub"] = json!({"config": {"KubeSpawner": {"extra_container_config": {"volumeMounts": [
            {"name": "home", "mountPath": "/home/jovyan", "subPath": "{username}"}]}}}});
        let (i, detail, by) = read(&v, &[]).unwrap();
        assert_eq!(i, SHARED.name);
        assert!(
            detail
                .unwrap()
                .contains("KubeSpawner does not expand templates there")
        );
        assert_eq!(
            by,
            origin("hub.config.KubeSpawner.extra_container_config.volumeMounts.0.subPath")
        );
    }

    #[test]
    fn a_profile_dropping_the_subpath_is_the_weakest_pod() {
        let v = values(json!({
            "storage": {"type": "static", "static": {"pvcName": "home-nfs"}},
            "profileList": [
                {"display_name": "Student", "default": true},
                {"display_name": "Staff", "kubespawner_override": {
                    "volume_mounts": [{"name": "home", "mountPath": "/home/jovyan"}]}},
            ],
        }));
        let (i, detail, by) = read(&v, &[]).unwrap();
        assert_eq!(i, SHARED.name);
        assert!(detail.unwrap().contains("whole and writable"));
        assert_eq!(
            by,
            origin("singleuser.profileList.1.kubespawner_override.volume_mounts.0")
        );
    }

    #[test]
    fn code_that_may_change_volumes_cannot_be_verified() {
        let mut v = values(json!({}));
        v["hub"] = json!({"extraConfig": {"a": "c.KubeSpawner.modify_pod_hook = add_home\n"}});
        assert_eq!(read(&v, &[]), None);
        v["hub"] = json!({"extraConfig": {"a": "c.KubeSpawner.storage_class = pick_class()\n"}});
        assert_eq!(read(&v, &[]), None);
        // A class set by code does not matter to a claim the hub never makes.
        let mut s =
            values(json!({"storage": {"type": "static", "static": {"pvcName": "home-nfs"}}}));
        s["hub"] = v["hub"].clone();
        assert_eq!(weakest(&s), SHARED_SUBPATH.name);
    }
}

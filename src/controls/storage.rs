//! Home directories: none, a block volume per user, or NFS (one volume per
//! user, or one shared volume with a subPath per user).

use serde_json::{Value, json};

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::chart::ChartLine;
use crate::lower::Lowering;
use crate::plan::{Group, Selected};
use crate::policy::{
    IdentityMode, NfsIsolation, NfsOnDelete, NfsStorage, NfsStorageClass, Policy, ReclaimPolicy,
    StorageType,
};
use crate::validate::formats::{k8s_subdomain, sub_path_fields};

pub struct StorageControl;

static DEF: ControlDef = ControlDef {
    id: "storage",
    title: "Home directory storage and its isolation",
    field: "/spec/storage/type",
    rationale: "How homes are stored decides what a container breakout exposes: one user's volume, or every user's files.",
    settings: &[
        Setting {
            name: "none",
            rank: 0,
            summary: "no persistent home; nothing outlives the server",
        },
        Setting {
            name: "block",
            rank: 1,
            summary: "a block PVC per user, group-owned through fsGroup (one attach per node slot; costs per volume)",
        },
        Setting {
            name: "nfs-per-user-volume",
            rank: 2,
            summary: "one NFS directory per user through the nfs-subdir-external-provisioner StorageClass (directories are mode 0777; capacity not enforced)",
        },
        Setting {
            name: "nfs-shared-subpath",
            rank: 3,
            summary: "one shared NFS volume, each user mounting a subPath (a breakout exposes every home)",
        },
    ],
    values_keys: &[
        "singleuser.storage.type",
        "singleuser.storage.dynamic.storageClass",
        "singleuser.storage.dynamic.storageAccessModes",
        "singleuser.storage.capacity",
    ],
    spawner_traits: &[
        "volumes",
        "volume_mounts",
        "storage_class",
        "storage_access_modes",
    ],
};

const PTR: &str = "/spec/storage";

impl Control for StorageControl {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn admission_gap(&self) -> Option<&'static str> {
        Some(
            "whose files a volume reaches depends on the server, path and storage class behind its claim, which the pod spec does not show (a hostPath volume is refused under `admission`)",
        )
    }
    fn selected(&self, p: &Policy) -> Selected {
        let s = &p.spec.storage;
        match s.kind {
            StorageType::None => Selected::of(0),
            StorageType::Block => Selected::with(1, s.capacity.clone()),
            StorageType::Nfs => match s.nfs.as_ref().map(|n| n.isolation) {
                Some(NfsIsolation::SharedSubpath) => Selected::of(3),
                _ => Selected::with(2, s.capacity.clone()),
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
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        let ty = v
            .str(&["singleuser", "storage", "type"])
            .unwrap_or("dynamic");
        match ty {
            "none" => ReadBack::Setting(Selected::of(0)),
            "static" => ReadBack::Setting(Selected::of(3)),
            _ => {
                let class = v.str(&["singleuser", "storage", "dynamic", "storageClass"]);
                let rwx = v
                    .get(&["singleuser", "storage", "dynamic", "storageAccessModes"])
                    .and_then(Value::as_array)
                    .is_some_and(|m| m.iter().any(|x| x == "ReadWriteMany"));
                let nfs_class = class
                    .and_then(|c| {
                        v.manifests.unwrap_or_default().iter().find(|m| {
                            m["kind"] == "StorageClass"
                                && m.pointer("/metadata/name").and_then(Value::as_str) == Some(c)
                        })
                    })
                    .is_some_and(|m| m["provisioner"].as_str().is_some_and(|p| p.contains("nfs")));
                let cap = v
                    .str(&["singleuser", "storage", "capacity"])
                    .unwrap_or("10Gi")
                    .to_string();
                ReadBack::Setting(if rwx || nfs_class {
                    Selected::with(2, cap)
                } else {
                    Selected::with(1, cap)
                })
            }
        }
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
        if super::read_setting(self, v).is_none_or(|got| got.index != 3) {
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
        match got.index {
            0 => s.kind = StorageType::None,
            1 => {
                s.kind = StorageType::Block;
                s.block = None;
                if let Some(c) = class {
                    lost.push(format!("home volumes use the StorageClass `{c}`; `storage.block.storageClass` would also create the class, so the proposal leaves it to the cluster default — set it if the compiler should manage `{c}`"));
                }
            }
            2 => {
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
            }
            _ => lost.extend(propose_static(v, p)),
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

fn lower_block(p: &Policy, cx: &mut Lowering) {
    let s = &p.spec.storage;
    cx.set(&["singleuser", "storage", "type"], json!("dynamic"));
    cx.set_at(
        "/spec/storage/capacity",
        &["singleuser", "storage", "capacity"],
        json!(s.capacity),
    );
    cx.set(
        &["singleuser", "storage", "dynamic", "storageAccessModes"],
        json!(["ReadWriteOnce"]),
    );
    match s.block.as_ref().and_then(|b| b.storage_class.as_ref()) {
        Some(sc) => {
            cx.set_at(
                "/spec/storage/block/storageClass",
                &["singleuser", "storage", "dynamic", "storageClass"],
                json!(sc.name),
            );
            let ctx = json!({
                "hub": p.metadata.name,
                "name": sc.name,
                "provisioner": sc.provisioner,
                "parameters": sc.parameters,
                "reclaim_policy": reclaim(sc.reclaim_policy),
                "allow_volume_expansion": sc.allow_volume_expansion,
                "binding_mode": "WaitForFirstConsumer",
            });
            cx.manifest(Group::Storage, "storage-class.yaml", ctx);
            if sc.reclaim_policy == ReclaimPolicy::Delete {
                cx.warn(
                    "/spec/storage/block/storageClass/reclaimPolicy",
                    "deleting a user's PVC deletes their home volume",
                    "`reclaimPolicy: Retain` keeps the volume after the claim goes",
                );
            }
        }
        None => {
            cx.set(
                &["singleuser", "storage", "dynamic", "storageClass"],
                Value::Null,
            );
            cx.note(DEF.field, "home volumes use the cluster's default StorageClass; set `storage.block.storageClass` to control encryption, reclaim policy and expansion");
        }
    }
    cx.note(DEF.field, format!("each user gets a {} block volume: cost grows per user and nodes limit attached volumes; KubeSpawner never resizes an existing PVC (raising capacity affects new users only)", s.capacity));
}

fn reclaim(r: ReclaimPolicy) -> &'static str {
    match r {
        ReclaimPolicy::Retain => "Retain",
        ReclaimPolicy::Delete => "Delete",
    }
}

fn lower_nfs(p: &Policy, cx: &mut Lowering) {
    let s = &p.spec.storage;
    let Some(nfs) = &s.nfs else {
        cx.error(DEF.field, "`storage.type: nfs` needs `storage.nfs`", "add `nfs: {isolation: per-user-volume, storageClass: {...}}` or `nfs: {isolation: shared-subpath, server: ..., path: ...}`");
        return;
    };
    let fixed_uid = p.spec.user_pods.identity.mode != IdentityMode::PerUser;
    match nfs.isolation {
        NfsIsolation::PerUserVolume => {
            let Some(sc) = &nfs.storage_class else {
                cx.error(&format!("{PTR}/nfs/isolation"), "`isolation: per-user-volume` needs `storage.nfs.storageClass`", "add `storageClass: {name: jupyter-user-nfs, provisioner: cluster.local/nfs-subdir-external-provisioner, onDelete: retain}`");
                return;
            };
            cx.set(&["singleuser", "storage", "type"], json!("dynamic"));
            cx.set_at(
                "/spec/storage/capacity",
                &["singleuser", "storage", "capacity"],
                json!(s.capacity),
            );
            cx.set_at(
                "/spec/storage/nfs/storageClass",
                &["singleuser", "storage", "dynamic", "storageClass"],
                json!(sc.name),
            );
            cx.set(
                &["singleuser", "storage", "dynamic", "storageAccessModes"],
                json!(["ReadWriteMany"]),
            );
            let (on_delete, archive) = match sc.on_delete {
                NfsOnDelete::Retain => ("retain", "true"),
                NfsOnDelete::Archive => ("archive", "true"),
                NfsOnDelete::Delete => ("delete", "false"),
            };
            let mut params = serde_json::Map::new();
            params.insert(
                "pathPattern".into(),
                json!("${.PVC.namespace}/${.PVC.name}"),
            );
            // `archive` is expressed through archiveOnDelete; onDelete only knows retain and delete.
            if on_delete != "archive" {
                params.insert("onDelete".into(), json!(on_delete));
            }
            params.insert("archiveOnDelete".into(), json!(archive));
            let ctx = json!({
                "hub": p.metadata.name,
                "name": sc.name,
                "provisioner": sc.provisioner,
                "parameters": params,
                "reclaim_policy": "Delete",
                "allow_volume_expansion": true,
                "binding_mode": "Immediate",
            });
            cx.manifest(Group::Storage, "storage-class.yaml", ctx);
            cx.note(&format!("{PTR}/nfs/storageClass"), format!("deploy nfs-subdir-external-provisioner with PROVISIONER_NAME `{}` and your NFS server; it creates one directory per user (mode 0777) and does not enforce capacity — use XFS project quotas on the server", sc.provisioner));
            if fixed_uid {
                cx.warn(DEF.field, "every user has the same uid on NFS, which ignores fsGroup", "a user who reaches another user's export path can read it; `userPods.identity.mode: per-user` gives each user a uid the server can tell apart");
            }
        }
        NfsIsolation::SharedSubpath => {
            let line = ChartLine::of(&p.chart);
            if let Some(sub) = &nfs.sub_path
                && let Some(why) = sub_path_problem(sub, line)
            {
                cx.error(
                    &format!("{PTR}/nfs/subPath"),
                    why,
                    "use the fields of the policy's chart line, e.g. `{username}`",
                );
                return;
            }
            let (pvc, sub) = shared_claim(p, nfs);
            match (&nfs.existing_claim, &nfs.server, &nfs.path) {
                (Some(_), None, None) => cx.note(
                    &format!("{PTR}/nfs/existingClaim"),
                    format!("homes are subPaths of the existing claim `{pvc}`; nothing is emitted for it, so the volume behind it decides which server and export users reach"),
                ),
                (Some(_), _, _) => {
                    cx.error(
                        &format!("{PTR}/nfs/existingClaim"),
                        "`existingClaim` excludes `server` and `path`",
                        "keep `existingClaim` for a claim that exists, or `server` and `path` for a volume the compiler emits",
                    );
                    return;
                }
                (None, Some(server), Some(path)) => {
                    let ctx = json!({
                        "hub": p.metadata.name,
                        "namespace": p.metadata.namespace,
                        "name": pvc,
                        "server": server,
                        "path": path,
                        "capacity": s.capacity,
                    });
                    // A PV + PVC rather than an inline nfs volume, which the restricted level forbids.
                    cx.manifest(Group::Storage, "nfs-shared.yaml", ctx);
                }
                _ => {
                    cx.error(
                        &format!("{PTR}/nfs/isolation"),
                        "`isolation: shared-subpath` needs `storage.nfs.server` and `storage.nfs.path`, or `storage.nfs.existingClaim`",
                        "add the NFS server and the exported directory, or the claim that holds the homes",
                    );
                    return;
                }
            }
            cx.set(&["singleuser", "storage", "type"], json!("static"));
            cx.set(&["singleuser", "storage", "static", "pvcName"], json!(pvc));
            let sub_at = if nfs.sub_path.is_some() {
                format!("{PTR}/nfs/subPath")
            } else {
                format!("{PTR}/nfs/isolation")
            };
            cx.set_at(
                &sub_at,
                &["singleuser", "storage", "static", "subPath"],
                json!(sub),
            );
            cx.warn(
                &format!("{PTR}/nfs/isolation"),
                "all homes live on one shared volume; a container breakout exposes every user's files",
                "`isolation: per-user-volume` mounts only the user's own directory; subPath directories are also created root-owned unless the server pre-creates them",
            );
            if fixed_uid {
                cx.warn(DEF.field, "every user has the same uid on a shared NFS export", "NFS ignores fsGroup; with one uid the server cannot keep users apart — use `userPods.identity.mode: per-user`");
            }
            if sub_path_fields(&sub).is_ok_and(|f| f.contains(&"username")) {
                cx.note(&sub_at, format!("`subPath: {sub}` expands differently on chart 3.x and 4.x (KubeSpawner 7 slugs); moving a hub between them changes every user's directory"));
            }
        }
    }
}

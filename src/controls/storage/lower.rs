//! Lowering storage: a block StorageClass, or NFS volumes per user or shared with a subPath.

use serde_json::{Value, json};

use super::{DEF, PTR, shared_claim, sub_path_problem};
use crate::chart::ChartLine;
use crate::controls::lowering::Lowering;
use crate::plan::Group;
use crate::policy::{IdentityMode, NfsIsolation, NfsOnDelete, Policy, ReclaimPolicy};
use crate::validate::formats::sub_path_fields;

pub(super) fn lower_block(p: &Policy, cx: &mut Lowering) {
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

pub(super) fn lower_nfs(p: &Policy, cx: &mut Lowering) {
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

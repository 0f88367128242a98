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
use crate::effective::Origin;
use crate::effective::grade::{self, Verdict};
use crate::effective::pod::{CLAIM, Pod, expand_str};
use crate::plan::{Group, Selected};
use crate::policy::{
    IdentityMode, NfsIsolation, NfsOnDelete, NfsStorage, NfsStorageClass, Policy, ReclaimPolicy,
    StorageType,
};
use crate::validate::formats::{k8s_subdomain, sub_path_fields};

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

// ------------------------------------------------------------- read-back

/// Volume kinds whose contents live and die with the pod, or are the
/// hub's own files: they hold nothing of one user that another could reach.
const POD_LOCAL: &[&str] = &[
    "emptyDir",
    "secret",
    "configMap",
    "projected",
    "downwardAPI",
    "ephemeral",
    "image",
    "gitRepo",
];

/// Inline volume kinds that attach a disk: one per user when named per user.
const DISKS: &[&str] = &[
    "awsElasticBlockStore",
    "gcePersistentDisk",
    "azureDisk",
    "cinder",
    "rbd",
    "iscsi",
    "fc",
];

/// One container's mount of a volume that outlives the pod.
struct Mount<'a> {
    /// Pointer of the mount (`/spec/containers/N/volumeMounts/M`).
    ptr: String,
    m: &'a Value,
    /// Pointer of the volume and its source key (`persistentVolumeClaim`, …).
    vol_ptr: String,
    kind: &'a str,
    src: &'a Value,
    /// Whether the mount's subPath (or subPathExpr) names the user.
    per_user_sub: bool,
}

/// What a mount reaches: a setting, in words, and what decided it.
struct Reach {
    setting: &'static Setting,
    detail: Option<String>,
    by: Option<Origin>,
}

/// The storage setting one effective pod puts in force: the weakest reach
/// of its containers' mounts of volumes that outlive it (`none` without
/// any). Init containers are left out: they run before the user's code.
pub fn classify(pod: &Pod, nfs_classes: &[String]) -> Verdict {
    for ptr in ["/spec/volumes", "/spec/containers/0/volumeMounts"] {
        if let Some(u) = grade::unknown(pod, ptr) {
            return u;
        }
    }
    let mounts = persistent_mounts(pod);
    // Code setting the claim's traits matters where the hub's claim is mounted.
    if mounts.iter().any(|m| hub_claim(pod, m).is_some())
        && let Some(u) = grade::unknown(pod, CLAIM)
    {
        return u;
    }
    let worst = mounts
        .iter()
        .filter_map(|m| reach(pod, m, &mounts, nfs_classes))
        .fold(None::<Reach>, |w, r| match w {
            Some(w) if w.setting.rank >= r.setting.rank => Some(w),
            _ => Some(r),
        });
    match worst {
        Some(r) => Verdict::found(pod, r.setting, r.detail, r.by),
        None => Verdict::found(pod, &NONE, None, None),
    }
}

/// Every container's mounts of volumes that outlive the pod.
fn persistent_mounts(pod: &Pod) -> Vec<Mount<'_>> {
    let volumes: Vec<&Value> = pod
        .json
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let containers = pod
        .json
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out = Vec::new();
    for (ci, c) in containers.iter().enumerate() {
        let Some(list) = c.get("volumeMounts").and_then(Value::as_array) else {
            continue;
        };
        for (mi, m) in list.iter().enumerate() {
            let name = m.get("name").and_then(Value::as_str);
            let Some((vi, vol)) = volumes
                .iter()
                .enumerate()
                .find(|(_, v)| v.get("name").and_then(Value::as_str) == name)
            else {
                continue;
            };
            let Some((kind, src)) = vol
                .as_object()
                .and_then(|o| o.iter().find(|(k, x)| *k != "name" && !x.is_null()))
            else {
                continue;
            };
            if POD_LOCAL.contains(&crate::effective::pod::camel(kind).as_str()) {
                continue;
            }
            let ptr = format!("/spec/containers/{ci}/volumeMounts/{mi}");
            let sub = text(m, "subPath").is_some() && pod.per_user(&format!("{ptr}/subPath"));
            // The hub sets JUPYTERHUB_USER in the notebook container.
            let expr = text(m, "subPathExpr").is_some_and(|e| {
                (ci == 0 && e.contains("$(JUPYTERHUB_USER)"))
                    || pod.per_user(&format!("{ptr}/subPathExpr"))
            });
            out.push(Mount {
                ptr,
                m,
                vol_ptr: format!("/spec/volumes/{vi}/{}", crate::paths::escape_pointer(kind)),
                kind: kind.as_str(),
                src,
                per_user_sub: sub || expr,
            });
        }
    }
    out
}

/// The claim name as written, when the mount's volume is the claim
/// KubeSpawner names `{pvc_name}` (whether or not it creates it): named
/// so, or by a template that expands to the same name for a user's default
/// server (`claim-{username}` for `claim-{user_server}`).
fn hub_claim<'a>(pod: &'a Pod, m: &Mount<'a>) -> Option<&'a str> {
    if crate::effective::pod::camel(m.kind) != "persistentVolumeClaim" {
        return None;
    }
    let name = text(m.src, "claimName")?;
    let template = raw(pod, &format!("{}/claimName", m.vol_ptr), name);
    let same = template.contains("{pvc_name}")
        || template == pod.claim.name_template
        || expand_str(template) == expand_str(&pod.claim.name_template);
    same.then_some(template)
}

/// A non-empty string field.
fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A string of the pod as written before expansion.
fn raw<'a>(pod: &'a Pod, ptr: &str, expanded: &'a str) -> &'a str {
    pod.templates.get(ptr).map_or(expanded, String::as_str)
}

/// The volume in words, with its templates as written.
fn describe(pod: &Pod, m: &Mount) -> String {
    let f = |k: &str| {
        text(m.src, k).map_or_else(
            || "?".to_string(),
            |x| raw(pod, &format!("{}/{k}", m.vol_ptr), x).to_string(),
        )
    };
    match crate::effective::pod::camel(m.kind).as_str() {
        // `{pvc_name}` shown as the template it expands from.
        "persistentVolumeClaim" => format!(
            "claim `{}`",
            f("claimName").replace("{pvc_name}", &pod.claim.name_template)
        ),
        "nfs" => format!("NFS export `{}:{}`", f("server"), f("path")),
        "hostPath" => format!("host path `{}`", f("path")),
        other => format!("`{other}` volume"),
    }
}

/// What one mount reaches; `None` when it keeps users apart (a read-only
/// mount of shared data).
fn reach(pod: &Pod, m: &Mount, all: &[Mount], nfs_classes: &[String]) -> Option<Reach> {
    let kind = crate::effective::pod::camel(m.kind);
    let what = describe(pod, m);
    let at = text(m.m, "mountPath").unwrap_or("?");
    // Whose volume: a template naming the user anywhere in its source
    // (claim name, NFS server or path, host path, …).
    let under = format!("{}/", m.vol_ptr);
    let per_user_volume = pod
        .templates
        .range(under.clone()..)
        .take_while(|(p, _)| p.starts_with(&under))
        .any(|(p, _)| pod.per_user(p));
    let read_only = m.m.get("readOnly") == Some(&Value::Bool(true))
        || m.src.get("readOnly") == Some(&Value::Bool(true));
    // The subPath (or subPathExpr) and its pointer.
    let (sub_ptr, sub) = ["subPath", "subPathExpr"]
        .iter()
        .find_map(|k| text(m.m, k).map(|s| (format!("{}/{k}", m.ptr), s)))
        .unwrap_or_else(|| (format!("{}/subPath", m.ptr), ""));
    let sub = (!sub.is_empty()).then_some(sub);
    if per_user_volume {
        let r = match kind.as_str() {
            "persistentVolumeClaim" => {
                let ptr = format!("{}/claimName", m.vol_ptr);
                let claim = &pod.claim;
                let own = claim.ensured && hub_claim(pod, m).is_some();
                if !own {
                    Reach {
                        setting: &NFS_PER_USER,
                        detail: Some(format!(
                            "{what} per user, which the hub does not create: whether it is a block or an NFS volume is not in the values"
                        )),
                        by: grade::origin(pod, &ptr),
                    }
                } else {
                    let rwx = claim.access_modes.iter().any(|a| a == "ReadWriteMany");
                    let nfs = claim
                        .storage_class
                        .as_ref()
                        .is_some_and(|c| nfs_classes.contains(c));
                    let detail = claim.capacity.clone();
                    match (rwx, nfs) {
                        (true, _) => Reach {
                            setting: &NFS_PER_USER,
                            detail,
                            by: Some(claim.modes_origin.clone()),
                        },
                        (_, true) => Reach {
                            setting: &NFS_PER_USER,
                            detail,
                            by: Some(claim.class_origin.clone()),
                        },
                        // The volume item: what made the claim the user's.
                        _ => Reach {
                            setting: &BLOCK,
                            detail,
                            by: m
                                .vol_ptr
                                .rsplit_once('/')
                                .and_then(|(item, _)| grade::origin(pod, item)),
                        },
                    }
                }
            }
            // Every user's directory is on the node's own disk.
            "hostPath" => Reach {
                setting: &SHARED_SUBPATH,
                detail: Some(format!("{what} per user, every home on the node's disk")),
                by: grade::origin(pod, &format!("{}/path", m.vol_ptr)),
            },
            k if DISKS.contains(&k) => Reach {
                setting: &BLOCK,
                detail: Some(format!("{what} per user")),
                by: grade::origin(pod, &m.vol_ptr),
            },
            _ => Reach {
                setting: &NFS_PER_USER,
                detail: Some(format!("{what} per user")),
                by: grade::origin(pod, &format!("{}/path", m.vol_ptr))
                    .or_else(|| grade::origin(pod, &m.vol_ptr)),
            },
        };
        return Some(r);
    }
    if m.per_user_sub {
        return Some(Reach {
            setting: &SHARED_SUBPATH,
            detail: Some(format!(
                "{what}, subPath `{}` per user",
                raw(pod, &sub_ptr, sub.unwrap_or_default())
            )),
            by: grade::origin(pod, &sub_ptr),
        });
    }
    if read_only {
        // Shared data read by all keeps users apart, unless it is the whole
        // of a volume the pod also mounts per user: every home, readable.
        let homes = all.iter().any(|o| o.vol_ptr == m.vol_ptr && o.per_user_sub);
        return (sub.is_none() && homes).then(|| Reach {
            setting: &SHARED,
            detail: Some(format!(
                "{what} mounted whole at `{at}`, read-only: every user reads every user's home"
            )),
            by: grade::origin(pod, &m.ptr),
        });
    }
    let detail = match sub {
        None => format!(
            "{what} mounted whole and writable at `{at}`: every user reads and writes every user's files"
        ),
        Some(s) => {
            // A template KubeSpawner never expands names one directory.
            let literal = if s.contains('{') && !pod.templates.contains_key(&sub_ptr) {
                " (KubeSpawner does not expand templates there)"
            } else {
                ""
            };
            format!(
                "{what}, subPath `{s}`{literal}: one directory for every user, writable at `{at}`"
            )
        }
    };
    let by = match hub_claim(pod, m) {
        // A claim named `{pvc_name}` is shared because its name template is.
        Some(t) if sub.is_none() && t.contains("{pvc_name}") => Some(pod.claim.name_origin.clone()),
        // A subPath key written as null or empty is still what decides.
        _ if sub.is_some() || m.m.get("subPath").is_some() => grade::origin(pod, &sub_ptr),
        _ => grade::origin(pod, &m.ptr),
    };
    Some(Reach {
        setting: &SHARED,
        detail: Some(detail),
        by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effective::Deployment;

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

//! Read-back: every persistent mount of the user pods, classified by whose files it reaches.

use serde_json::Value;

use super::{BLOCK, NFS_PER_USER, NONE, SHARED, SHARED_SUBPATH};
use crate::controls::Setting;
use crate::effective::Origin;
use crate::effective::grade::{self, Verdict};
use crate::effective::pod::{CLAIM, Pod, expand_str};

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

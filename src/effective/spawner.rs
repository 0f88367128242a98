//! The spawner's configuration as the chart's `jupyterhub_config.py` leaves
//! it: `singleuser.*` mapped to KubeSpawner traits, the chart's own
//! additions (volumes, the iptables init container), then `hub.config`
//! sections, then the hub's Python, each later step winning.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::origin::Origin;
use super::python::{self, Effect};
use crate::values;

/// Which generation of the chart's configuration file builds the spawner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flavour {
    /// 3.x: volumes are lists, extended in order.
    V3,
    /// 4.0–4.2: lists as in 3.x, new labels, `{pvc_name}` claims.
    V4Lists,
    /// 4.3 and later: volumes are dicts keyed by name (lists accepted),
    /// built in key order.
    V4,
}

impl Flavour {
    /// From a chart version; unknown versions take the newest flavour of
    /// their line.
    pub fn of(version: &str) -> Flavour {
        let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        match (parts.next(), parts.next()) {
            (Some(3), _) => Flavour::V3,
            (Some(4), Some(minor)) if minor < 3 => Flavour::V4Lists,
            _ => Flavour::V4,
        }
    }
}

/// One trait: its value (`None` when code sets it to something that cannot
/// be read) and where it was set. List traits keep the origin of each item.
#[derive(Debug, Clone, PartialEq)]
pub struct Trait {
    pub value: Option<Value>,
    pub origin: Origin,
    pub items: Vec<Origin>,
}

impl Trait {
    pub fn known(value: Value, origin: Origin) -> Trait {
        let items = item_origins(&value, &origin);
        Trait {
            value: Some(value),
            origin,
            items,
        }
    }
}

/// Origins of the items of a list (by index) or a dict (by sorted key).
fn item_origins(value: &Value, origin: &Origin) -> Vec<Origin> {
    match value {
        Value::Array(a) => (0..a.len())
            .map(|i| origin.child(&[i.to_string()]))
            .collect(),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            keys.into_iter().map(|k| origin.child(&[k])).collect()
        }
        _ => Vec::new(),
    }
}

/// Something that can change the pod in ways that cannot be read: a hook,
/// a spawner subclass, code that touches the spawner indirectly.
#[derive(Debug, Clone, PartialEq)]
pub struct Wildcard {
    pub what: String,
    pub origin: Origin,
}

/// Traits are shared between the configurations of a profile's variants
/// (each variant clones its profile's and replaces only what it overrides).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpawnerConfig {
    pub traits: BTreeMap<Arc<str>, Arc<Trait>>,
    /// Traits set in the `Spawner` section: they apply only where the
    /// `KubeSpawner` section does not set the trait.
    pub base_traits: BTreeMap<Arc<str>, Arc<Trait>>,
    pub wildcards: Vec<Wildcard>,
}

impl SpawnerConfig {
    /// The trait in force (`KubeSpawner` section over `Spawner`).
    pub fn get(&self, name: &str) -> Option<&Trait> {
        self.traits
            .get(name)
            .or_else(|| self.base_traits.get(name))
            .map(|t| &**t)
    }

    /// The trait's value when known and set.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.get(name).and_then(|t| t.value.as_ref())
    }

    pub fn set(&mut self, name: &str, t: Trait) {
        self.traits.insert(name.into(), Arc::new(t));
    }
}

/// `singleuser.<key>` → KubeSpawner trait, as the chart maps them (only
/// when the value is not null).
const SINGLEUSER: &[(&str, &str)] = &[
    ("pod_name_template", "podNameTemplate"),
    ("image_pull_policy", "image.pullPolicy"),
    ("extra_labels", "extraLabels"),
    ("extra_annotations", "extraAnnotations"),
    ("uid", "uid"),
    ("fs_gid", "fsGid"),
    ("service_account", "serviceAccountName"),
    ("node_selector", "nodeSelector"),
    ("lifecycle_hooks", "lifecycleHooks"),
    ("init_containers", "initContainers"),
    ("extra_containers", "extraContainers"),
    ("mem_limit", "memory.limit"),
    ("mem_guarantee", "memory.guarantee"),
    ("cpu_limit", "cpu.limit"),
    ("cpu_guarantee", "cpu.guarantee"),
    ("extra_resource_limits", "extraResource.limits"),
    ("extra_resource_guarantees", "extraResource.guarantees"),
    ("environment", "extraEnv"),
    ("profile_list", "profileList"),
    ("extra_pod_config", "extraPodConfig"),
];

fn su_path(key: &str) -> Vec<String> {
    std::iter::once("singleuser")
        .chain(key.split('.'))
        .map(String::from)
        .collect()
}

fn get<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    values::get(v, &p).filter(|x| !x.is_null())
}

/// Python's truth of a value (`if x:`).
pub fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(m)) => !m.is_empty(),
    }
}

/// The spawner configuration from merged values and the hub's Python.
pub fn configure(v: &Value, flavour: Flavour, python: &[Effect]) -> SpawnerConfig {
    let mut cfg = SpawnerConfig::default();
    for (name, key) in SINGLEUSER {
        let path = su_path(key);
        if let Some(x) = get(v, &path) {
            cfg.set(name, Trait::known(x.clone(), Origin::values(&path)));
        }
    }
    image(v, &mut cfg);
    // The chart always sets this one, null included (null leaves the
    // container field unset, i.e. escalation allowed).
    let ape = su_path("allowPrivilegeEscalation");
    cfg.set(
        "allow_privilege_escalation",
        Trait::known(
            get(v, &ape).cloned().unwrap_or(Value::Null),
            Origin::values(&ape),
        ),
    );
    storage(v, flavour, &mut cfg);
    metadata_blocker(v, &mut cfg);
    hub_config(v, &mut cfg);
    apply_python(python, &mut cfg);
    cfg
}

fn image(v: &Value, cfg: &mut SpawnerConfig) {
    let name_path = su_path("image.name");
    let Some(name) = get(v, &name_path).filter(|n| truthy(Some(n))) else {
        return;
    };
    let name = scalar_text(name);
    let tag_path = su_path("image.tag");
    let (image, origin) = match get(v, &tag_path).filter(|t| truthy(Some(t))) {
        Some(tag) => (
            format!("{name}:{}", scalar_text(tag)),
            Origin::values(&tag_path),
        ),
        None => (name, Origin::values(&name_path)),
    };
    cfg.set("image", Trait::known(Value::String(image), origin));
}

/// A scalar as Python's `f"{x}"` prints it.
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

/// Home storage, `extraFiles`, `extraVolumes` and `extraVolumeMounts`.
fn storage(v: &Value, flavour: Flavour, cfg: &mut SpawnerConfig) {
    // Keyed entries (4.3+: dicts built in key order); before 4.3, lists
    // extended in order, which the running index keeps.
    let mut volumes: Vec<(String, Value, Origin)> = Vec::new();
    let mut mounts: Vec<(String, Value, Origin)> = Vec::new();
    let st = su_path("storage.type");
    let home = get(v, &su_path("storage.homeMountPath"))
        .cloned()
        .unwrap_or(Value::Null);
    match get(v, &st).and_then(Value::as_str) {
        Some("dynamic") => {
            let name = get(v, &su_path("storage.dynamic.volumeNameTemplate"))
                .cloned()
                .unwrap_or(Value::Null);
            let key = scalar_text(&name);
            let claim = if flavour == Flavour::V3 {
                get(v, &su_path("storage.dynamic.pvcNameTemplate"))
                    .cloned()
                    .unwrap_or(Value::Null)
            } else {
                json!("{pvc_name}")
            };
            let o = Origin::values(&st);
            volumes.push((
                key.clone(),
                json!({"name": name, "persistentVolumeClaim": {"claimName": claim}}),
                o.clone(),
            ));
            let mut m = json!({"mountPath": home, "name": name});
            if flavour != Flavour::V3 {
                m["subPath"] = get(v, &su_path("storage.dynamic.subPath"))
                    .cloned()
                    .unwrap_or(Value::Null);
            }
            mounts.push((key, m, o.clone()));
            // The claim KubeSpawner creates: its name, class, modes, size.
            cfg.set("storage_pvc_ensure", Trait::known(json!(true), o));
            for (name, key) in [
                ("pvc_name_template", "storage.dynamic.pvcNameTemplate"),
                ("storage_class", "storage.dynamic.storageClass"),
                ("storage_access_modes", "storage.dynamic.storageAccessModes"),
                ("storage_capacity", "storage.capacity"),
            ] {
                let path = su_path(key);
                if let Some(x) = get(v, &path)
                    && (name != "pvc_name_template" || flavour == Flavour::V3 || truthy(Some(x)))
                {
                    cfg.set(name, Trait::known(x.clone(), Origin::values(&path)));
                }
            }
        }
        Some("static") => {
            let claim = get(v, &su_path("storage.static.pvcName"))
                .cloned()
                .unwrap_or(Value::Null);
            let o = Origin::values(&su_path("storage.static"));
            volumes.push((
                "home".into(),
                json!({"name": "home", "persistentVolumeClaim": {"claimName": claim}}),
                o.clone(),
            ));
            let sub = get(v, &su_path("storage.static.subPath"))
                .cloned()
                .unwrap_or(Value::Null);
            mounts.push((
                "home".into(),
                json!({"mountPath": home, "name": "home", "subPath": sub}),
                o,
            ));
        }
        _ => {}
    }
    let files_path = su_path("extraFiles");
    if let Some(Value::Object(files)) = get(v, &files_path)
        && !files.is_empty()
    {
        let items: Vec<Value> = files
            .iter()
            .map(|(k, d)| {
                let mut item = json!({"key": k, "path": k});
                if let Some(mode) = d.get("mode") {
                    item["mode"] = mode.clone();
                }
                item
            })
            .collect();
        let o = Origin::values(&files_path);
        volumes.push((
            "files".into(),
            json!({"name": "files", "secret": {"secretName": "singleuser", "items": items}}),
            o.clone(),
        ));
        for (idx, (k, d)) in files.iter().enumerate() {
            mounts.push((
                    format!("{idx}-files"),
                    json!({"mountPath": d.get("mountPath").cloned().unwrap_or(Value::Null), "subPath": k, "name": "files"}),
                    o.child(&[k]),
                ));
        }
    }
    let ev = su_path("storage.extraVolumes");
    match get(v, &ev) {
        Some(Value::Object(m)) => {
            for (k, vol) in m {
                volumes.retain(|(key, _, _)| key != k);
                volumes.push((k.clone(), vol.clone(), Origin::values(&ev).child(&[k])));
            }
        }
        Some(Value::Array(a)) => {
            for (i, vol) in a.iter().enumerate() {
                let key = if flavour == Flavour::V4 {
                    vol.get("name").map(scalar_text).unwrap_or_default()
                } else {
                    format!("~{i:06}")
                };
                volumes.retain(|(k, _, _)| flavour != Flavour::V4 || *k != key);
                volumes.push((
                    key,
                    vol.clone(),
                    Origin::values(&ev).child(&[i.to_string()]),
                ));
            }
        }
        _ => {}
    }
    let em = su_path("storage.extraVolumeMounts");
    match get(v, &em) {
        Some(Value::Object(m)) => {
            for (k, mount) in m {
                mounts.retain(|(key, _, _)| key != k);
                mounts.push((k.clone(), mount.clone(), Origin::values(&em).child(&[k])));
            }
        }
        Some(Value::Array(a)) => {
            for (i, mount) in a.iter().enumerate() {
                let key = if flavour == Flavour::V4 {
                    format!(
                        "{i}-{}",
                        mount.get("name").map(scalar_text).unwrap_or_default()
                    )
                } else {
                    format!("~{i:06}")
                };
                mounts.retain(|(k, _, _)| flavour != Flavour::V4 || *k != key);
                mounts.push((
                    key,
                    mount.clone(),
                    Origin::values(&em).child(&[i.to_string()]),
                ));
            }
        }
        _ => {}
    }
    if flavour == Flavour::V4 {
        // Dict traits: KubeSpawner takes the values in key order.
        volumes.sort_by(|a, b| a.0.cmp(&b.0));
        mounts.sort_by(|a, b| a.0.cmp(&b.0));
    }
    for (name, list) in [("volumes", volumes), ("volume_mounts", mounts)] {
        let origin = Origin::values(&su_path("storage"));
        let items = list.iter().map(|(_, _, o)| o.clone()).collect();
        let value = Value::Array(list.into_iter().map(|(_, v, _)| v).collect());
        cfg.set(
            name,
            Trait {
                value: Some(value),
                origin,
                items,
            },
        );
    }
}

/// `singleuser.cloudMetadata.blockWithIptables == True` appends a
/// privileged root init container that drops TCP/80 to the metadata IP.
fn metadata_blocker(v: &Value, cfg: &mut SpawnerConfig) {
    let flag = su_path("cloudMetadata.blockWithIptables");
    let on = match get(v, &flag) {
        Some(Value::Bool(b)) => *b,
        // Python's `1 == True`.
        Some(Value::Number(n)) => n.as_f64() == Some(1.0),
        _ => false,
    };
    if !on {
        return;
    }
    let ip = get(v, &su_path("cloudMetadata.ip"))
        .map(scalar_text)
        .unwrap_or_else(|| "None".into());
    let image = format!(
        "{}:{}",
        get(v, &su_path("networkTools.image.name"))
            .map(scalar_text)
            .unwrap_or_else(|| "None".into()),
        get(v, &su_path("networkTools.image.tag"))
            .map(scalar_text)
            .unwrap_or_else(|| "None".into())
    );
    let mut container = json!({
        "name": "block-cloud-metadata",
        "image": image,
        "command": ["iptables", "--append", "OUTPUT", "--protocol", "tcp", "--destination", ip,
                    "--destination-port", "80", "--jump", "DROP"],
        "securityContext": {"privileged": true, "runAsUser": 0, "capabilities": {"add": ["NET_ADMIN"]}},
    });
    if let Some(r) = get(v, &su_path("networkTools.resources")) {
        container["resources"] = r.clone();
    }
    let origin = Origin::values(&flag);
    match cfg.traits.get_mut("init_containers").map(Arc::make_mut) {
        Some(Trait {
            value: Some(Value::Array(a)),
            items,
            ..
        }) => {
            a.push(container);
            items.push(origin);
        }
        Some(t) if t.value.is_some() => {
            // A dict cannot be appended to: the hub fails to start.
            t.value = None;
        }
        Some(_) => {}
        None => {
            cfg.set(
                "init_containers",
                Trait {
                    value: Some(Value::Array(vec![container])),
                    origin: origin.clone(),
                    items: vec![origin],
                },
            );
        }
    }
}

/// `hub.config.KubeSpawner` replaces traits whole; `hub.config.Spawner`
/// fills those the `KubeSpawner` section leaves unset.
fn hub_config(v: &Value, cfg: &mut SpawnerConfig) {
    for (section, base) in [("KubeSpawner", false), ("Spawner", true)] {
        let path = ["hub", "config", section];
        let Some(Value::Object(m)) = values::get(v, &path) else {
            continue;
        };
        for (k, x) in m {
            let t = Trait::known(x.clone(), Origin::values(&path).child(&[k]));
            if base {
                cfg.base_traits.insert(k.as_str().into(), Arc::new(t));
            } else {
                cfg.set(k, t);
            }
        }
    }
}

fn apply_python(effects: &[Effect], cfg: &mut SpawnerConfig) {
    for e in effects {
        let origin = Origin::Python(e.at().clone());
        match e {
            Effect::Set { name, value, .. } => {
                let t = Trait {
                    value: value.clone(),
                    items: value
                        .as_ref()
                        .map(|v| item_origins(v, &origin))
                        .unwrap_or_default(),
                    origin,
                };
                if e.at().text.contains("c.Spawner") || e.at().text.contains("[\"Spawner\"]") {
                    cfg.base_traits.insert(name.as_str().into(), Arc::new(t));
                } else {
                    cfg.set(name, t);
                }
            }
            Effect::Call {
                name, method, arg, ..
            } => {
                let cur = cfg.value(name).cloned();
                let new = match (method.as_str(), cur, arg) {
                    ("update", Some(Value::Object(mut m)), Value::Object(a)) => {
                        for (k, v) in a {
                            m.insert(k.clone(), v.clone());
                        }
                        Some(Value::Object(m))
                    }
                    ("update", None, Value::Object(a)) => Some(Value::Object(a.clone())),
                    ("append", Some(Value::Array(mut l)), a) => {
                        l.push(a.clone());
                        Some(Value::Array(l))
                    }
                    ("append", None, a) => Some(Value::Array(vec![a.clone()])),
                    ("extend", Some(Value::Array(mut l)), Value::Array(a)) => {
                        l.extend(a.iter().cloned());
                        Some(Value::Array(l))
                    }
                    ("extend", None, Value::Array(a)) => Some(Value::Array(a.clone())),
                    _ => None,
                };
                let mut items = cfg.get(name).map(|t| t.items.clone()).unwrap_or_default();
                if let Some(Value::Array(l)) = &new {
                    items.resize(l.len(), origin.clone());
                }
                cfg.set(
                    name,
                    Trait {
                        value: new,
                        origin,
                        items,
                    },
                );
            }
            Effect::Mutate { name, .. } => {
                cfg.set(
                    name,
                    Trait {
                        value: None,
                        origin,
                        items: Vec::new(),
                    },
                );
            }
            Effect::Hook { name, .. } => cfg.wildcards.push(Wildcard {
                what: format!("`{name}` runs code on every spawn"),
                origin,
            }),
            Effect::Opaque { what, .. } => cfg.wildcards.push(Wildcard {
                what: what.clone(),
                origin,
            }),
        }
    }
}

/// Every piece of Python the hub runs, in the order it runs them: files
/// mounted into `jupyterhub_config.d` (by file name), then
/// `hub.extraConfig` (by key).
pub fn python_effects(v: &Value) -> Vec<Effect> {
    hub_python(v)
        .into_iter()
        .flat_map(|(path, code)| python::scan(&path, code))
        .collect()
}

/// The hub's Python, each piece with the values path that holds it, in the
/// order the chart's `jupyterhub_config.py` runs them.
pub fn hub_python(v: &Value) -> Vec<(Vec<String>, &str)> {
    let mut out = Vec::new();
    let mut files: Vec<(String, Vec<String>, &str)> = Vec::new();
    if let Some(Value::Object(m)) = values::get(v, &["hub", "extraFiles"]) {
        for (k, f) in m {
            let mount = f.get("mountPath").and_then(Value::as_str).unwrap_or("");
            let Some(dir_rest) =
                mount.strip_prefix("/usr/local/etc/jupyterhub/jupyterhub_config.d/")
            else {
                continue;
            };
            if !dir_rest.ends_with(".py") || dir_rest.contains('/') {
                continue;
            }
            if let Some(code) = f.get("stringData").and_then(Value::as_str) {
                files.push((
                    dir_rest.to_string(),
                    vec![
                        "hub".into(),
                        "extraFiles".into(),
                        k.clone(),
                        "stringData".into(),
                    ],
                    code,
                ));
            }
        }
    }
    files.sort();
    out.extend(files.into_iter().map(|(_, path, code)| (path, code)));
    if let Some(Value::Object(m)) = values::get(v, &["hub", "extraConfig"]) {
        let mut keys: Vec<&String> = m.keys().collect();
        keys.sort();
        for k in keys {
            if let Some(code) = m[k].as_str() {
                let path = vec!["hub".to_string(), "extraConfig".to_string(), k.clone()];
                out.push((path, code));
            }
        }
    }
    out
}

/// KubeSpawner's `_apply_overrides`: dict values merge into dict traits
/// (`None` deletes a key), anything else replaces.
pub fn apply_overrides(cfg: &mut SpawnerConfig, overrides: &Map<String, Value>, origin: &Origin) {
    for (k, v) in overrides {
        let o = origin.child(&[k]);
        match (v, cfg.value(k).cloned()) {
            (Value::Object(new), Some(Value::Object(mut cur))) => {
                recursive_update(&mut cur, new);
                let items = item_origins(&Value::Object(cur.clone()), &o);
                cfg.set(
                    k,
                    Trait {
                        value: Some(Value::Object(cur)),
                        origin: o,
                        items,
                    },
                );
            }
            _ => cfg.set(k, Trait::known(v.clone(), o)),
        }
    }
}

/// KubeSpawner's `recursive_update`.
pub fn recursive_update(target: &mut Map<String, Value>, new: &Map<String, Value>) {
    for (k, v) in new {
        match v {
            Value::Null => {
                target.remove(k);
            }
            Value::Object(nm) => match target.get_mut(k) {
                Some(Value::Object(tm)) => recursive_update(tm, nm),
                _ => {
                    target.insert(k.clone(), v.clone());
                }
            },
            _ => {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Value {
        json!({"singleuser": {
            "uid": 1000, "fsGid": 100, "allowPrivilegeEscalation": false,
            "image": {"name": "img", "tag": "1.0"},
            "cloudMetadata": {"blockWithIptables": true, "ip": "169.254.169.254"},
            "networkTools": {"image": {"name": "nt", "tag": "2"}, "resources": {}},
            "storage": {"type": "dynamic", "homeMountPath": "/home/jovyan",
                        "dynamic": {"volumeNameTemplate": "volume-{user_server}", "subPath": null}},
            "extraLabels": {"hub.jupyter.org/network-access-hub": "true"},
        }})
    }

    #[test]
    fn chart_mapping_and_iptables_container() {
        let cfg = configure(&defaults(), Flavour::V4, &[]);
        assert_eq!(cfg.value("uid"), Some(&json!(1000)));
        assert_eq!(cfg.value("image"), Some(&json!("img:1.0")));
        let init = cfg.get("init_containers").unwrap();
        assert_eq!(
            init.value.as_ref().unwrap()[0]["name"],
            "block-cloud-metadata"
        );
        assert_eq!(
            init.items[0],
            Origin::values(&["singleuser", "cloudMetadata", "blockWithIptables"])
        );
    }

    #[test]
    fn hub_config_and_python_win_in_order() {
        let mut v = defaults();
        v["hub"] = json!({
            "config": {"KubeSpawner": {"uid": 0, "privileged": true}, "Spawner": {"uid": 5, "cpu_limit": 2}},
            "extraConfig": {"b": "c.KubeSpawner.privileged = False\n", "a": "c.KubeSpawner.uid = compute()\n"},
        });
        let py = python_effects(&v);
        let cfg = configure(&v, Flavour::V4, &py);
        assert_eq!(cfg.value("privileged"), Some(&json!(false)));
        assert!(
            cfg.get("uid").unwrap().value.is_none(),
            "non-literal uid is unknown"
        );
        assert_eq!(
            cfg.value("cpu_limit"),
            Some(&json!(2)),
            "Spawner section fills gaps"
        );
    }

    #[test]
    fn overrides_merge_dicts_and_replace_the_rest() {
        let mut cfg = configure(&defaults(), Flavour::V4, &[]);
        let o = Origin::values(&["singleuser", "profileList", "0", "kubespawner_override"]);
        let over = json!({"extra_labels": {"a": "b", "hub.jupyter.org/network-access-hub": null}, "uid": 0});
        apply_overrides(&mut cfg, over.as_object().unwrap(), &o);
        assert_eq!(cfg.value("extra_labels"), Some(&json!({"a": "b"})));
        assert_eq!(cfg.value("uid"), Some(&json!(0)));
        assert_eq!(cfg.get("uid").unwrap().origin, o.child(&["uid"]));
    }

    #[test]
    fn volumes_follow_the_flavour() {
        let mut v = defaults();
        v["singleuser"]["storage"]["extraVolumes"] =
            json!([{"name": "zz", "hostPath": {"path": "/"}}, {"name": "aa", "emptyDir": {}}]);
        let names = |f| {
            let cfg = configure(&v, f, &[]);
            cfg.value("volumes")
                .unwrap()
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(Flavour::V4), vec!["aa", "volume-{user_server}", "zz"]);
        assert_eq!(names(Flavour::V3), vec!["volume-{user_server}", "zz", "aa"]);
    }

    #[test]
    fn flavours() {
        assert_eq!(Flavour::of("3.3.8"), Flavour::V3);
        assert_eq!(Flavour::of("4.2.0"), Flavour::V4Lists);
        assert_eq!(Flavour::of("4.3.0"), Flavour::V4);
        assert_eq!(Flavour::of("4.4.0"), Flavour::V4);
    }
}

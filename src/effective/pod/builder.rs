//! The pod KubeSpawner's `get_pod_manifest` builds, field by field, with each field's origin.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::convert::{byte_spec, camel, expand, expand_str};
use super::{Claim, EXTRA_POD_CONFIG, USER};
use crate::effective::origin::Origin;
use crate::effective::spawner::{SpawnerConfig, scalar_text, truthy};

pub(super) struct Builder<'a> {
    pub(super) cfg: &'a SpawnerConfig,
    pub(super) origins: BTreeMap<String, Origin>,
    pub(super) templates: BTreeMap<String, String>,
}

impl<'a> Builder<'a> {
    /// A trait's value, borrowed from the configuration (not from the
    /// builder, which records origins meanwhile).
    fn v(&self, name: &str) -> Option<&'a Value> {
        self.cfg.value(name).filter(|v| !v.is_null())
    }

    fn origin(&self, name: &str) -> Origin {
        self.cfg
            .get(name)
            .map(|t| t.origin.clone())
            .unwrap_or_else(|| Origin::default(format!("KubeSpawner's default for `{name}`")))
    }

    /// KubeSpawner's expansion of a value placed at `ptr`, keeping each
    /// template it expands.
    fn expand_at(&mut self, ptr: &str, v: &Value) -> Value {
        let mut at = String::with_capacity(ptr.len() + 32);
        at.push_str(ptr);
        self.expand_in(&mut at, v)
    }

    /// [`Builder::expand_at`] with the pointer in one buffer that grows
    /// and shrinks as the walk goes down and up: a pointer string is made
    /// only for a template kept, not for every node.
    fn expand_in(&mut self, at: &mut String, v: &Value) -> Value {
        match v {
            Value::String(s) => {
                if s.contains('{') {
                    self.templates.insert(at.clone(), s.clone());
                }
                Value::String(expand_str(s))
            }
            Value::Array(a) => {
                let mut out = Vec::with_capacity(a.len());
                for (i, x) in a.iter().enumerate() {
                    out.push(self.expand_child(at, &i.to_string(), x));
                }
                Value::Array(out)
            }
            Value::Object(m) => {
                let mut out = Map::with_capacity(m.len());
                for (k, x) in m {
                    let x = self.expand_child(at, &crate::paths::escape_pointer(k), x);
                    out.insert(k.clone(), x);
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }

    fn expand_child(&mut self, at: &mut String, segment: &str, v: &Value) -> Value {
        let len = at.len();
        at.push('/');
        at.push_str(segment);
        let out = self.expand_in(at, v);
        at.truncate(len);
        out
    }

    /// Items of a list or dict trait at `base/N`, expanded, the top-level
    /// keys of each (a model dict) in camel case.
    fn expand_items(&mut self, base: &str, v: &Value, first: usize) -> Vec<Value> {
        let mut at = String::with_capacity(base.len() + 48);
        at.push_str(base);
        sorted_dict_values(v)
            .into_iter()
            .enumerate()
            .map(|(i, x)| {
                let len = at.len();
                at.push('/');
                at.push_str(&(i + first).to_string());
                let out = match x {
                    Value::Object(m) => {
                        let mut out = Map::with_capacity(m.len());
                        for (k, x) in m {
                            let k = camel(k);
                            let x =
                                self.expand_child(&mut at, &crate::paths::escape_pointer(&k), x);
                            out.insert(k, x);
                        }
                        Value::Object(out)
                    }
                    other => self.expand_in(&mut at, other),
                };
                at.truncate(len);
                out
            })
            .collect()
    }

    pub(super) fn claim(&self) -> Claim {
        Claim {
            // KubeSpawner 7's default; 6's (`claim-{username}--{servername}`)
            // names the user too, and the 3.x chart always sets the trait.
            name_template: self
                .v("pvc_name_template")
                .map(scalar_text)
                .unwrap_or_else(|| "claim-{user_server}".into()),
            name_origin: self.origin("pvc_name_template"),
            ensured: truthy(self.v("storage_pvc_ensure")),
            storage_class: self.v("storage_class").map(scalar_text),
            class_origin: self.origin("storage_class"),
            access_modes: match self.v("storage_access_modes") {
                Some(Value::Array(a)) => a.iter().map(scalar_text).collect(),
                Some(_) => Vec::new(),
                None => vec!["ReadWriteOnce".into()],
            },
            modes_origin: self.origin("storage_access_modes"),
            capacity: self.v("storage_capacity").map(scalar_text),
        }
    }

    fn note(&mut self, ptr: &str, trait_name: &str) {
        let o = self.origin(trait_name);
        self.origins.insert(ptr.to_string(), o);
    }

    pub(super) fn build(&mut self) -> Value {
        // Maps are made at about their final size (growing one reallocates).
        let mut spec = Map::with_capacity(8);
        // Pod security context: fsGroup, supplementalGroups, then the dict.
        let mut psc = Map::new();
        if let Some(g) = self.v("fs_gid") {
            psc.insert("fsGroup".into(), int_of(g));
            self.note("/spec/securityContext/fsGroup", "fs_gid");
        }
        if let Some(Value::Array(g)) = self.v("supplemental_gids")
            && !g.is_empty()
        {
            psc.insert(
                "supplementalGroups".into(),
                Value::Array(g.iter().map(int_of).collect()),
            );
            self.note(
                "/spec/securityContext/supplementalGroups",
                "supplemental_gids",
            );
        }
        if let Some(Value::Object(m)) = self.v("pod_security_context").cloned() {
            for (k, x) in m {
                self.note(
                    &format!("/spec/securityContext/{k}"),
                    "pod_security_context",
                );
                psc.insert(k, x);
            }
        }
        if !psc.is_empty() {
            spec.insert("securityContext".into(), Value::Object(psc));
        }
        // Notebook container security context.
        let mut csc = Map::new();
        let c0 = "/spec/containers/0/securityContext";
        if let Some(u) = self.v("uid") {
            csc.insert("runAsUser".into(), int_of(u));
            self.note(&format!("{c0}/runAsUser"), "uid");
        }
        if let Some(g) = self.v("gid") {
            csc.insert("runAsGroup".into(), int_of(g));
            self.note(&format!("{c0}/runAsGroup"), "gid");
        }
        if truthy(self.v("privileged")) {
            csc.insert("privileged".into(), json!(true));
        }
        self.note(&format!("{c0}/privileged"), "privileged");
        if let Some(a) = self.v("allow_privilege_escalation") {
            csc.insert("allowPrivilegeEscalation".into(), a.clone());
        }
        self.note(
            &format!("{c0}/allowPrivilegeEscalation"),
            "allow_privilege_escalation",
        );
        if let Some(Value::Object(m)) = self.v("container_security_context").cloned() {
            for (k, x) in m {
                self.note(&format!("{c0}/{k}"), "container_security_context");
                csc.insert(k, x);
            }
        }
        let mut nb = Map::with_capacity(8);
        nb.insert("name".into(), json!("notebook"));
        if let Some(i) = self.v("image") {
            nb.insert("image".into(), i.clone());
        }
        self.note("/spec/containers/0/image", "image");
        if let Some(p) = self.v("image_pull_policy") {
            nb.insert("imagePullPolicy".into(), p.clone());
        }
        self.note("/spec/containers/0/imagePullPolicy", "image_pull_policy");
        nb.insert(
            "ports".into(),
            json!([{"name": "notebook-port", "containerPort": 8888}]),
        );
        let mut resources = Map::with_capacity(2);
        let mut requests = Map::with_capacity(2);
        let mut limits = Map::with_capacity(2);
        for (name, key, limit, bytes) in [
            ("cpu_guarantee", "cpu", false, false),
            ("mem_guarantee", "memory", false, true),
            ("cpu_limit", "cpu", true, false),
            ("mem_limit", "memory", true, true),
        ] {
            if let Some(x) = self.cfg.value(name).filter(|x| truthy(Some(x))) {
                let out = if limit { &mut limits } else { &mut requests };
                out.insert(key.into(), if bytes { byte_spec(x) } else { float_of(x) });
            }
        }
        for (name, out) in [
            ("extra_resource_guarantees", &mut requests),
            ("extra_resource_limits", &mut limits),
        ] {
            if let Some(Value::Object(m)) = self.cfg.value(name) {
                for (k, x) in m {
                    out.insert(k.clone(), x.clone());
                }
            }
        }
        for (name, field) in [
            ("cpu_guarantee", "requests/cpu"),
            ("mem_guarantee", "requests/memory"),
            ("cpu_limit", "limits/cpu"),
            ("mem_limit", "limits/memory"),
        ] {
            self.note(&format!("/spec/containers/0/resources/{field}"), name);
        }
        for (name, field) in [
            ("extra_resource_guarantees", "requests"),
            ("extra_resource_limits", "limits"),
        ] {
            if let Some(Value::Object(m)) = self.cfg.value(name) {
                for k in m.keys() {
                    self.note(&format!("/spec/containers/0/resources/{field}/{k}"), name);
                }
            }
        }
        resources.insert("requests".into(), Value::Object(requests));
        resources.insert("limits".into(), Value::Object(limits));
        nb.insert("resources".into(), Value::Object(resources));
        if let Some(m) = self.v("volume_mounts") {
            let mounts = self.expand_items("/spec/containers/0/volumeMounts", m, 0);
            nb.insert("volumeMounts".into(), Value::Array(mounts));
        }
        self.item_origins("/spec/containers/0/volumeMounts", "volume_mounts");
        self.environment(&mut nb);
        if !csc.is_empty() {
            nb.insert("securityContext".into(), Value::Object(csc));
        }
        if let Some(Value::Object(extra)) = self.v("extra_container_config").cloned() {
            for (raw, x) in extra {
                let k = camel(&raw);
                let o = self.origin("extra_container_config").child(&[&raw]);
                self.replaced(&format!("/spec/containers/0/{k}"), o);
                if x.is_null() {
                    nb.remove(&k);
                } else {
                    nb.insert(k, x);
                }
            }
        }
        if let Some(sa) = self.v("service_account").cloned() {
            let sa = self.expand_at("/spec/serviceAccountName", &sa);
            spec.insert("serviceAccountName".into(), sa);
        }
        self.note("/spec/serviceAccountName", "service_account");
        match self.cfg.value("automount_service_account_token") {
            None | Some(Value::Null) => {
                if self.v("service_account").is_none() {
                    spec.insert("automountServiceAccountToken".into(), json!(false));
                    self.note("/spec/automountServiceAccountToken", "service_account");
                }
            }
            Some(a) => {
                spec.insert("automountServiceAccountToken".into(), a.clone());
                self.note(
                    "/spec/automountServiceAccountToken",
                    "automount_service_account_token",
                );
            }
        }
        let mut containers = vec![Value::Object(nb)];
        if let Some(extra) = self.v("extra_containers") {
            containers.extend(self.expand_items("/spec/containers", extra, 1));
            self.item_origins_from("/spec/containers", "extra_containers", 1);
        }
        spec.insert("containers".into(), Value::Array(containers));
        if let Some(init) = self.v("init_containers") {
            let list = self.expand_items("/spec/initContainers", init, 0);
            if !list.is_empty() {
                spec.insert("initContainers".into(), Value::Array(list));
            }
            self.item_origins("/spec/initContainers", "init_containers");
        }
        let vols: Vec<Value> = match self.v("volumes") {
            Some(v) => self.expand_items("/spec/volumes", v, 0),
            None => Vec::new(),
        };
        spec.insert("volumes".into(), Value::Array(vols));
        self.item_origins("/spec/volumes", "volumes");
        if let Some(Value::Object(extra)) = self.v("extra_pod_config") {
            // Where the dict as a whole was last set: what decides a field
            // it leaves out (a profile's `null` removes one).
            self.note(EXTRA_POD_CONFIG, "extra_pod_config");
            for (raw, x) in extra {
                let k = camel(raw);
                let o = self.origin("extra_pod_config").child(&[&raw]);
                let ptr = format!("/spec/{k}");
                self.replaced(&ptr, o);
                let x = self.expand_at(&ptr, x);
                if x.is_null() {
                    spec.remove(&k);
                } else {
                    spec.insert(k, x);
                }
            }
        }
        let extra_labels = match self.v("extra_labels") {
            Some(Value::Object(m)) => m.len(),
            _ => 0,
        };
        let mut labels = Map::with_capacity(extra_labels + 4);
        if let Some(Value::Object(m)) = self.v("extra_labels") {
            for (k, x) in m {
                labels.insert(k.clone(), expand(x));
            }
        }
        labels.insert("app".into(), json!("jupyterhub"));
        labels.insert("component".into(), json!("singleuser-server"));
        labels.insert(
            "app.kubernetes.io/component".into(),
            json!("singleuser-server"),
        );
        labels.insert("hub.jupyter.org/username".into(), json!(USER));
        let mut annotations = Map::new();
        if let Some(Value::Object(m)) = self.v("extra_annotations").cloned() {
            for (k, x) in &m {
                annotations.insert(k.clone(), expand(x));
                self.note(
                    &format!("/metadata/annotations/{}", crate::paths::escape_pointer(k)),
                    "extra_annotations",
                );
            }
        }
        // Assembled by moving the parts in (`json!` would copy each one
        // through serde).
        let mut metadata = Map::with_capacity(3);
        metadata.insert("name".into(), Value::String(format!("jupyter-{USER}")));
        metadata.insert("labels".into(), Value::Object(labels));
        metadata.insert("annotations".into(), Value::Object(annotations));
        let mut pod = Map::with_capacity(4);
        pod.insert("apiVersion".into(), Value::String("v1".into()));
        pod.insert("kind".into(), Value::String("Pod".into()));
        pod.insert("metadata".into(), Value::Object(metadata));
        pod.insert("spec".into(), Value::Object(spec));
        Value::Object(pod)
    }

    /// The notebook's environment (`environment`, from `extraEnv`): a
    /// string is the value, a dict an env entry (`valueFrom`) less its name.
    /// `extra_container_config.env`, applied after, replaces the list whole.
    fn environment(&mut self, nb: &mut Map<String, Value>) {
        const ENV: &str = "/spec/containers/0/env";
        self.note(ENV, "environment");
        let Some(Value::Object(m)) = self.v("environment") else {
            return;
        };
        let base = self.origin("environment");
        let mut env = Vec::with_capacity(m.len());
        for (k, x) in m.iter().filter(|(_, x)| !x.is_null()) {
            let i = env.len();
            self.origins
                .insert(format!("{ENV}/{i}"), base.child(&[k.as_str()]));
            let entry = match x {
                Value::Object(spec) => {
                    let mut e = Map::with_capacity(spec.len() + 1);
                    e.insert("name".into(), json!(k));
                    for (a, b) in spec.iter().filter(|(a, _)| *a != "name") {
                        e.insert(a.clone(), b.clone());
                    }
                    Value::Object(e)
                }
                other => {
                    let value =
                        self.expand_at(&format!("{ENV}/{i}/value"), &json!(scalar_text(other)));
                    json!({"name": k, "value": value})
                }
            };
            env.push(entry);
        }
        if !env.is_empty() {
            nb.insert("env".into(), Value::Array(env));
        }
    }

    /// A field replaced whole: what was recorded under it no longer holds.
    fn replaced(&mut self, ptr: &str, o: Origin) {
        let under = format!("{ptr}/");
        self.origins.retain(|p, _| !p.starts_with(&under));
        self.templates
            .retain(|p, _| p != ptr && !p.starts_with(&under));
        self.origins.insert(ptr.to_string(), o);
    }

    fn item_origins(&mut self, base: &str, trait_name: &str) {
        self.item_origins_from(base, trait_name, 0);
    }

    fn item_origins_from(&mut self, base: &str, trait_name: &str, first: usize) {
        let Some(t) = self.cfg.get(trait_name) else {
            return;
        };
        self.origins
            .insert(format!("{base}/~{trait_name}"), t.origin.clone());
        for (i, o) in t.items.iter().enumerate() {
            self.origins
                .insert(format!("{base}/{}", i + first), o.clone());
        }
    }
}

/// Values of a dict trait in key order; a list as it is.
fn sorted_dict_values(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            entries.into_iter().map(|(_, v)| v).collect()
        }
        _ => Vec::new(),
    }
}

fn int_of(v: &Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => n
            .as_f64()
            .map(|f| json!(f.trunc() as i64))
            .unwrap_or_else(|| v.clone()),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map(|i| json!(i))
            .unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    }
}

fn float_of(v: &Value) -> Value {
    match v {
        Value::Number(n) => n.as_f64().map(|f| json!(f)).unwrap_or_else(|| v.clone()),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map(|f| json!(f))
            .unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    }
}

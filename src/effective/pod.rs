//! The user pod KubeSpawner builds from a spawner configuration (its
//! `make_pod`), with the origin of every field that matters.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::Pointer;

use super::origin::Origin;
use super::spawner::{SpawnerConfig, Trait, Wildcard, scalar_text, truthy};

/// Fake identity the pod is built for; only names depend on it.
pub const USER: &str = "user1";

/// One effective user pod.
#[derive(Debug, Clone, PartialEq)]
pub struct Pod {
    /// `default`, `profile "gpu"`, `profile "gpu", option image=other`.
    pub label: String,
    /// The pod as the Kubernetes API receives it.
    pub json: Value,
    /// JSON pointer → where the field at (or under) it was set.
    pub origins: BTreeMap<String, Origin>,
    /// Parts that cannot be known: pointer prefix (`""` for the whole pod),
    /// what, and where.
    pub unknown: Vec<(String, Wildcard)>,
    /// Fields whose value a user types in (a profile option's free-form
    /// choice): pointer and where the option is defined.
    pub free_form: Vec<(String, Origin)>,
    /// The profile (index in the list) and option choice it was built for.
    pub profile: Option<usize>,
    /// That profile's slug.
    pub slug: Option<String>,
    pub choice: Option<(String, String)>,
    /// Strings KubeSpawner expanded (`{username}` and friends), as written
    /// before expansion: pointer into `json` → template.
    pub templates: BTreeMap<String, String>,
    /// The claim `{pvc_name}` names and KubeSpawner may create.
    pub claim: Claim,
}

/// The user's claim as KubeSpawner knows it: what `{pvc_name}` expands
/// from and, when `storage_pvc_ensure` is on, the claim it creates before
/// the pod. Traits of it that code sets make [`CLAIM`] unknown.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// `pvc_name_template`, unexpanded.
    pub name_template: String,
    pub name_origin: Origin,
    /// KubeSpawner creates the claim (`storage_pvc_ensure`).
    pub ensured: bool,
    /// `storage_class` (`None`: the cluster's default class).
    pub storage_class: Option<String>,
    pub class_origin: Origin,
    /// `storage_access_modes`.
    pub access_modes: Vec<String>,
    pub modes_origin: Origin,
    /// `storage_capacity`.
    pub capacity: Option<String>,
}

/// Pseudo-pointer of the user's claim in [`Pod::unknown`].
pub const CLAIM: &str = "/~claim";

/// Pseudo-pointer, in [`Pod::origins`], of the `extra_pod_config` dict.
pub const EXTRA_POD_CONFIG: &str = "/spec/~extra_pod_config";

/// KubeSpawner's template fields whose value differs from user to user
/// (`{pod_name}` too: two users' pods never share a name). `{servername}`
/// alone does not: users' servers of the same name share it.
const PER_USER_FIELDS: &[&str] = &[
    "userid",
    "username",
    "unescaped_username",
    "escaped_username",
    "safe_username",
    "legacy_escape_username",
    "user_server",
    "safe_user_server",
    "escaped_user_server",
    "pod_name",
];

/// The field names a Python format string refers to (`{name}`,
/// `{name!r}`, `{name:>8}`, `{name[0]}`); `{{` and `}}` are braces.
pub fn template_fields(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find(['{', '}']) {
        let after = &rest[i + 1..];
        if rest[i..].starts_with("{{") || rest[i..].starts_with("}}") {
            rest = &after[1..];
            continue;
        }
        if rest.as_bytes()[i] == b'}' {
            rest = after;
            continue;
        }
        let Some(end) = after.find('}') else {
            break;
        };
        let field = &after[..end];
        let name_end = field.find(['!', ':', '[', '.']).unwrap_or(field.len());
        out.push(&field[..name_end]);
        rest = &after[end + 1..];
    }
    out
}

impl Pod {
    /// Where the field at `ptr` was decided: the deepest recorded pointer
    /// that is `ptr` or one of its ancestors.
    pub fn origin_of(&self, ptr: &str) -> Option<&Origin> {
        let mut p = ptr.to_string();
        loop {
            if let Some(o) = self.origins.get(&p) {
                return Some(o);
            }
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => return None,
            }
        }
    }

    /// Why the field at `ptr` cannot be known, if it cannot.
    pub fn unknown_at(&self, ptr: &str) -> Option<&Wildcard> {
        self.unknown
            .iter()
            .find(|(p, _)| ptr.starts_with(p.as_str()) || p.starts_with(ptr))
            .map(|(_, w)| w)
    }

    /// Whether the string at `ptr` differs from user to user: KubeSpawner
    /// expanded it from a template naming the user (`{username}`,
    /// `{userid}`, …, or `{pvc_name}` when the claim's name template names
    /// the user). Decided on the template; a field KubeSpawner does not
    /// expand (`extra_container_config`) is the same for everyone.
    pub fn per_user(&self, ptr: &str) -> bool {
        self.templates
            .get(ptr)
            .is_some_and(|t| self.template_per_user(t))
    }

    /// Whether a template names the user.
    pub fn template_per_user(&self, t: &str) -> bool {
        template_fields(t).iter().any(|f| {
            PER_USER_FIELDS.contains(f)
                || (*f == "pvc_name"
                    && !self.claim.name_template.contains("{pvc_name}")
                    && self.template_per_user(&self.claim.name_template))
        })
    }

    /// Every container with its pointer: init containers first (they run
    /// first), then the notebook and its sidecars.
    pub fn containers(&self) -> Vec<(String, &Value)> {
        let mut out = Vec::new();
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            if let Some(Value::Array(a)) = self.json.at(&format!("/spec/{list}")) {
                for (i, c) in a.iter().enumerate() {
                    out.push((format!("/spec/{list}/{i}"), c));
                }
            }
        }
        out
    }
}

/// Traits whose unknown value makes part of the pod unknown, and which part.
const TRAIT_FIELDS: &[(&str, &str)] = &[
    ("uid", "/spec/containers/0/securityContext"),
    ("gid", "/spec/containers/0/securityContext"),
    ("privileged", "/spec/containers/0/securityContext"),
    (
        "allow_privilege_escalation",
        "/spec/containers/0/securityContext",
    ),
    (
        "container_security_context",
        "/spec/containers/0/securityContext",
    ),
    ("fs_gid", "/spec/securityContext"),
    ("supplemental_gids", "/spec/securityContext"),
    ("pod_security_context", "/spec/securityContext"),
    ("service_account", "/spec/serviceAccountName"),
    (
        "automount_service_account_token",
        "/spec/automountServiceAccountToken",
    ),
    ("image", "/spec/containers/0/image"),
    ("image_pull_policy", "/spec/containers/0/imagePullPolicy"),
    ("cpu_limit", "/spec/containers/0/resources"),
    ("cpu_guarantee", "/spec/containers/0/resources"),
    ("mem_limit", "/spec/containers/0/resources"),
    ("mem_guarantee", "/spec/containers/0/resources"),
    ("extra_resource_limits", "/spec/containers/0/resources"),
    ("extra_resource_guarantees", "/spec/containers/0/resources"),
    ("extra_container_config", "/spec/containers/0"),
    ("extra_pod_config", "/spec"),
    ("init_containers", "/spec/initContainers"),
    ("extra_containers", "/spec/containers"),
    ("volumes", "/spec/volumes"),
    ("volume_mounts", "/spec/containers/0/volumeMounts"),
    ("pvc_name_template", CLAIM),
    ("storage_pvc_ensure", CLAIM),
    ("storage_class", CLAIM),
    ("storage_access_modes", CLAIM),
    ("extra_labels", "/metadata"),
    ("extra_annotations", "/metadata"),
    ("profile_list", ""),
];

/// Builds the pod; `label` names it in reports.
pub fn make_pod(cfg: &SpawnerConfig, label: &str) -> Pod {
    let mut b = Builder {
        cfg,
        origins: BTreeMap::new(),
        templates: BTreeMap::new(),
    };
    let mut unknown: Vec<(String, Wildcard)> = cfg
        .wildcards
        .iter()
        .map(|w| (String::new(), w.clone()))
        .collect();
    for (name, field) in TRAIT_FIELDS {
        if let Some(t @ Trait { value: None, .. }) = cfg.get(name) {
            unknown.push((
                (*field).to_string(),
                Wildcard {
                    what: format!("`{name}` is set by code that cannot be read"),
                    origin: t.origin.clone(),
                },
            ));
        }
    }
    let json = b.build();
    let claim = b.claim();
    Pod {
        label: label.to_string(),
        json,
        origins: b.origins,
        unknown,
        free_form: Vec::new(),
        profile: None,
        slug: None,
        choice: None,
        templates: b.templates,
        claim,
    }
}

struct Builder<'a> {
    cfg: &'a SpawnerConfig,
    origins: BTreeMap<String, Origin>,
    templates: BTreeMap<String, String>,
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
        match v {
            Value::String(s) => {
                if s.contains('{') {
                    self.templates.insert(ptr.to_string(), s.clone());
                }
                Value::String(expand_str(s))
            }
            Value::Array(a) => Value::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, x)| self.expand_at(&format!("{ptr}/{i}"), x))
                    .collect(),
            ),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| {
                        let p = format!("{ptr}/{}", crate::paths::escape_pointer(k));
                        (k.clone(), self.expand_at(&p, x))
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Items of a list or dict trait at `base/N`, expanded.
    fn expand_items(&mut self, base: &str, v: &Value, first: usize) -> Vec<Value> {
        sorted_dict_values(v)
            .iter()
            .enumerate()
            .map(|(i, x)| self.expand_at(&format!("{base}/{}", i + first), &camel_keys(x)))
            .collect()
    }

    fn claim(&self) -> Claim {
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

    fn build(&mut self) -> Value {
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
fn sorted_dict_values(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            keys.into_iter().map(|k| m[k].clone()).collect()
        }
        _ => Vec::new(),
    }
}

/// KubeSpawner's template expansion of `{username}` and friends.
pub fn expand(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(expand_str(s)),
        Value::Array(a) => Value::Array(a.iter().map(expand).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), expand(x))).collect()),
        other => other.clone(),
    }
}

/// The fields in the order KubeSpawner replaces them (each replacement
/// sees the text the previous ones left).
const EXPANSIONS: &[(&str, &str)] = &[
    ("{pvc_name}", PVC_NAME),
    ("{user_server}", USER),
    ("{username}", USER),
    ("{unescaped_username}", USER),
    ("{escaped_username}", USER),
    ("{safe_username}", USER),
    ("{servername}", ""),
    ("{unescaped_servername}", ""),
    ("{escaped_servername}", ""),
    ("{safe_servername}", ""),
    ("{userid}", "1"),
];

/// The claim name of [`USER`]'s home.
const PVC_NAME: &str = "claim-user1";

pub fn expand_str(s: &str) -> String {
    let mut out = s.to_string();
    if !out.contains('{') {
        return out;
    }
    for (field, value) in EXPANSIONS {
        if out.contains(field) {
            out = out.replace(field, value);
        }
    }
    out
}

/// Kubernetes model attribute names in snake case → the API's camel case.
pub fn camel(k: &str) -> String {
    match k {
        "host_pid" => return "hostPID".into(),
        "host_ipc" => return "hostIPC".into(),
        _ => {}
    }
    if !k.contains('_') {
        return k.to_string();
    }
    let mut out = String::new();
    let mut up = false;
    for c in k.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Top-level keys of a model dict in camel case (nested dicts stay as
/// written, as KubeSpawner passes them on).
fn camel_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (camel(k), x.clone())).collect()),
        other => other.clone(),
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

/// JupyterHub's `ByteSpecification`: `1G` is 1024³ bytes; a bare number is
/// bytes. Anything else is kept as written (the hub would refuse it).
pub fn byte_spec(v: &Value) -> Value {
    match v {
        Value::Number(n) => n
            .as_f64()
            .map(|f| json!(f as i64))
            .unwrap_or_else(|| v.clone()),
        Value::String(s) => bytes_of(s).map(|b| json!(b)).unwrap_or_else(|| v.clone()),
        other => other.clone(),
    }
}

/// Bytes of a KubeSpawner memory string.
pub fn bytes_of(s: &str) -> Option<i64> {
    let s = s.trim();
    let units: [(&str, f64); 8] = [
        ("Ki", 1024f64),
        ("Mi", 1024f64.powi(2)),
        ("Gi", 1024f64.powi(3)),
        ("Ti", 1024f64.powi(4)),
        ("K", 1024f64),
        ("M", 1024f64.powi(2)),
        ("G", 1024f64.powi(3)),
        ("T", 1024f64.powi(4)),
    ];
    for (suffix, mult) in units {
        if let Some(num) = s.strip_suffix(suffix) {
            let n: f64 = num.trim().parse().ok()?;
            return Some((n * mult) as i64);
        }
    }
    s.parse::<f64>().ok().map(|f| f as i64)
}

/// A trait value as text for messages.
pub fn show(v: &Value) -> String {
    match v {
        Value::String(_) | Value::Bool(_) | Value::Null => scalar_text(v),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::spawner::{Flavour, configure, python_effects};
    use super::*;

    #[test]
    fn the_claim_name_is_the_users() {
        assert_eq!(PVC_NAME, format!("claim-{USER}"));
        assert_eq!(
            expand(&json!({"a": ["{pvc_name}/{username}{servername}"], "b": 1})),
            json!({"a": ["claim-user1/user1"], "b": 1})
        );
    }

    fn pod_of(v: Value) -> Pod {
        let py = python_effects(&v);
        make_pod(&configure(&v, Flavour::V4, &py), "default")
    }

    #[test]
    fn security_contexts_and_token() {
        let p = pod_of(
            json!({"singleuser": {"uid": 1000, "fsGid": 100, "allowPrivilegeEscalation": false},
            "hub": {"config": {"KubeSpawner": {"container_security_context": {"capabilities": {"drop": ["ALL"]}}}}}}),
        );
        assert_eq!(
            p.json.at("/spec/containers/0/securityContext"),
            Some(
                &json!({"runAsUser": 1000, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}})
            )
        );
        assert_eq!(
            p.json.at("/spec/securityContext/fsGroup"),
            Some(&json!(100))
        );
        assert_eq!(
            p.json.at("/spec/automountServiceAccountToken"),
            Some(&json!(false))
        );
        assert_eq!(
            p.origin_of("/spec/containers/0/securityContext/capabilities/drop"),
            Some(&Origin::values(&[
                "hub",
                "config",
                "KubeSpawner",
                "container_security_context"
            ]))
        );
    }

    #[test]
    fn extra_container_config_replaces_the_security_context_whole() {
        let p = pod_of(
            json!({"singleuser": {"uid": 1000, "allowPrivilegeEscalation": false},
            "hub": {"config": {"KubeSpawner": {"extra_container_config": {"security_context": {"privileged": true}}}}}}),
        );
        assert_eq!(
            p.json.at("/spec/containers/0/securityContext"),
            Some(&json!({"privileged": true}))
        );
    }

    #[test]
    fn service_account_leaves_token_to_the_cluster_and_zero_limits_are_none() {
        let p = pod_of(
            json!({"singleuser": {"serviceAccountName": "user-sa", "cpu": {"limit": 0}, "memory": {"limit": "2G"}}}),
        );
        assert_eq!(p.json.at("/spec/automountServiceAccountToken"), None);
        assert_eq!(
            p.json.at("/spec/containers/0/resources/limits"),
            Some(&json!({"memory": 2147483648i64}))
        );
    }

    #[test]
    fn hooks_make_the_whole_pod_unknown() {
        let p = pod_of(
            json!({"hub": {"extraConfig": {"a": "x = 1\nc.KubeSpawner.modify_pod_hook = f\n"}}}),
        );
        let w = p.unknown_at("/spec/containers/0/securityContext").unwrap();
        assert!(matches!(&w.origin, Origin::Python(l) if l.line == 2));
    }

    #[test]
    fn template_fields_are_python_format_fields() {
        assert_eq!(
            template_fields("a-{username}{servername!s}-{safe_username:.8}-{{userid}}"),
            vec!["username", "servername", "safe_username"]
        );
        assert_eq!(template_fields("}{x[0]}{"), vec!["x"]);
        assert!(template_fields("plain").is_empty());
    }

    #[test]
    fn templates_are_kept_where_kubespawner_expands_them() {
        let p = pod_of(json!({"singleuser": {"storage": {
            "type": "static", "static": {"pvcName": "home", "subPath": "{username}"}, "homeMountPath": "/home/jovyan"},
            "extraPodConfig": {"volumes": [{"name": "home", "nfs": {"server": "s", "path": "/x/{userid}"}}]}},
            "hub": {"config": {"KubeSpawner": {"extra_container_config": {"env": [{"name": "A", "value": "{username}"}]}}}}}));
        assert_eq!(
            p.json.pointer("/spec/containers/0/volumeMounts/0/subPath"),
            Some(&json!(USER))
        );
        assert!(p.per_user("/spec/containers/0/volumeMounts/0/subPath"));
        assert!(p.per_user("/spec/volumes/0/nfs/path"));
        // Not expanded by KubeSpawner: the same text for every user.
        assert!(!p.per_user("/spec/containers/0/env/0/value"));
        assert_eq!(
            p.json.pointer("/spec/containers/0/env/0/value"),
            Some(&json!("{username}"))
        );
    }

    #[test]
    fn extra_pod_config_keys_are_camel_cased() {
        let p = pod_of(
            json!({"singleuser": {"extraPodConfig": {"host_network": true, "host_pid": true}}}),
        );
        assert_eq!(p.json.at("/spec/hostNetwork"), Some(&json!(true)));
        assert_eq!(p.json.at("/spec/hostPID"), Some(&json!(true)));
    }

    #[test]
    fn extra_env_is_the_notebook_environment_until_extra_container_config_replaces_it() {
        let p = pod_of(json!({"singleuser": {"extraEnv": {
            "A": "{username}",
            "B": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            "C": null,
        }}}));
        assert_eq!(
            p.json.at("/spec/containers/0/env"),
            Some(&json!([
                {"name": "A", "value": "user1"},
                {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            ]))
        );
        assert_eq!(
            p.templates
                .get("/spec/containers/0/env/0/value")
                .map(String::as_str),
            Some("{username}")
        );
        assert!(
            p.origin_of("/spec/containers/0/env/1")
                .is_some_and(|o| o.describe().contains("extraEnv.B")),
            "{:?}",
            p.origin_of("/spec/containers/0/env/1")
        );
        let p = pod_of(json!({
            "singleuser": {"extraEnv": {"A": "1"}},
            "hub": {"config": {"KubeSpawner": {"extra_container_config": {"env": [{"name": "Z", "value": "2"}]}}}},
        }));
        assert_eq!(
            p.json.at("/spec/containers/0/env"),
            Some(&json!([{"name": "Z", "value": "2"}]))
        );
    }
}

//! The user pod KubeSpawner builds from a spawner configuration (its
//! `make_pod`), with the origin of every field that matters.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use super::origin::Origin;
use super::spawner::{SpawnerConfig, Trait, Wildcard};

mod builder;
mod convert;

use builder::Builder;
pub use convert::{byte_spec, bytes_of, camel, expand, expand_str, show};

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
        let mut p = ptr;
        loop {
            if let Some(o) = self.origins.get(p) {
                return Some(o);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
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
    pub fn containers(&self) -> Vec<(Cow<'static, str>, &Value)> {
        // Every grader asks for every pod's containers: the pointers of the
        // first few of each list are written out, not formatted each time.
        const FIRST: [[&str; 4]; 3] = [
            [
                "/spec/initContainers/0",
                "/spec/initContainers/1",
                "/spec/initContainers/2",
                "/spec/initContainers/3",
            ],
            [
                "/spec/containers/0",
                "/spec/containers/1",
                "/spec/containers/2",
                "/spec/containers/3",
            ],
            [
                "/spec/ephemeralContainers/0",
                "/spec/ephemeralContainers/1",
                "/spec/ephemeralContainers/2",
                "/spec/ephemeralContainers/3",
            ],
        ];
        let mut out = Vec::new();
        let lists = ["initContainers", "containers", "ephemeralContainers"];
        for (list, first) in lists.iter().zip(FIRST) {
            if let Some(Value::Array(a)) = self.json.get("spec").and_then(|s| s.get(*list)) {
                for (i, c) in a.iter().enumerate() {
                    let ptr = match first.get(i) {
                        Some(p) => Cow::Borrowed(*p),
                        None => Cow::Owned(format!("/spec/{list}/{i}")),
                    };
                    out.push((ptr, c));
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::Pointer;

    use super::super::spawner::{Flavour, configure, python_effects};
    use super::*;

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
    fn containers_are_listed_init_first_with_their_pointers() {
        let six: Vec<Value> = (0..6).map(|i| json!({"name": format!("x{i}")})).collect();
        let p = pod_of(json!({"singleuser": {
            "initContainers": [{"name": "setup"}], "extraContainers": six}}));
        let ptrs: Vec<String> = p
            .containers()
            .into_iter()
            .map(|(p, _)| p.into_owned())
            .collect();
        let mut want = vec!["/spec/initContainers/0".to_string()];
        want.extend((0..7).map(|i| format!("/spec/containers/{i}")));
        assert_eq!(ptrs, want);
        assert_eq!(p.containers()[6].1.get("name"), Some(&json!("x4")));
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

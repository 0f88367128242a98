//! Kubernetes API access from user pods, and the proxy pod's token.

use serde_json::{Value, json};

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::admission::{Validation, cel};
use crate::controls::lowering::Lowering;
use crate::effective::Origin;
use crate::effective::grade::{Found, Verdict};
use crate::plan::Selected;
use crate::policy::{ApiAccessMode, IdentityProvider, Policy};

mod pod_creator;
mod workload_identity;

use pod_creator::{lower_pod_creator, propose_pod_creator};
use workload_identity::{lower_workload_identity, propose_workload_identity};

pub struct ApiAccessControl;

/// Settings of `api-access`.
pub(crate) mod api {
    use crate::controls::Setting;

    pub static NONE: Setting = Setting {
        name: "none",
        rank: 0,
        summary: "no token in user pods (`serviceAccountName: null` gives `automountServiceAccountToken: false`)",
    };
    pub static WORKLOAD_IDENTITY: Setting = Setting {
        name: "workload-identity",
        rank: 1,
        summary: "user pods run as one ServiceAccount bound to a cloud identity (GKE, EKS, AKS), with its token and no Kubernetes RBAC; every user shares the identity's cloud permissions",
    };
    pub static POD_CREATOR: Setting = Setting {
        name: "pod-creator",
        rank: 2,
        summary: "user pods get a ServiceAccount that may create pods and PVCs in a separate workload namespace",
    };
}

static API_ACCESS: ControlDef = ControlDef {
    id: "api-access",
    title: "Kubernetes API access for user pods",
    field: "/spec/apiAccess/mode",
    rationale: "A service-account token in a user pod lets the user talk to the Kubernetes API as that account; \
        without a token a compromised server cannot touch the cluster. A cloud identity bound to the account \
        gives every user its cloud permissions.",
    settings: &[&api::NONE, &api::WORKLOAD_IDENTITY, &api::POD_CREATOR],
    values_keys: &[
        "singleuser.serviceAccountName",
        "hub.config.KubeSpawner.automount_service_account_token",
        "hub.extraConfig",
        "singleuser.extraEnv.USER_WORKLOAD_NAMESPACE",
        "singleuser.extraLabels[azure.workload.identity/use]",
        "singleuser.networkPolicy.egress",
    ],
    read_only_keys: &["hub.extraConfig"],
    spawner_traits: &["service_account", "automount_service_account_token"],
};

/// The chart's own ServiceAccounts that hold RBAC, with the values key
/// that renames each (the default name is the chart's, without a prefix).
const CHART_ACCOUNTS: &[(&str, &[&str])] = &[
    ("hub", &["hub", "serviceAccount", "name"]),
    ("autohttps", &["proxy", "traefik", "serviceAccount", "name"]),
    (
        "user-scheduler",
        &["scheduling", "userScheduler", "serviceAccount", "name"],
    ),
    (
        "hook-image-awaiter",
        &["prePuller", "hook", "serviceAccount", "name"],
    ),
];

/// The annotation that binds a ServiceAccount to its cloud identity.
fn annotation(provider: IdentityProvider) -> Option<&'static str> {
    match provider {
        IdentityProvider::Gke => Some("iam.gke.io/gcp-service-account"),
        IdentityProvider::Eks => Some("eks.amazonaws.com/role-arn"),
        IdentityProvider::EksPodIdentity => None,
        IdentityProvider::Aks => Some("azure.workload.identity/client-id"),
    }
}

/// The pod label AKS's webhook acts on.
const AKS_LABEL: &str = "azure.workload.identity/use";

impl Control for ApiAccessControl {
    fn def(&self) -> &'static ControlDef {
        &API_ACCESS
    }

    fn selected(&self, p: &Policy) -> Selected {
        match p.spec.api_access.mode {
            ApiAccessMode::None => api::NONE.selected(),
            ApiAccessMode::WorkloadIdentity => match &p.spec.api_access.workload_identity {
                Some(wi) => api::WORKLOAD_IDENTITY.with(wi.service_account.clone()),
                None => api::WORKLOAD_IDENTITY.selected(),
            },
            ApiAccessMode::PodCreator => api::POD_CREATOR.selected(),
        }
    }

    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        match p.spec.api_access.mode {
            ApiAccessMode::None => {
                // null, never "": an empty name makes the API server mount the namespace default token.
                cx.set(&["singleuser", "serviceAccountName"], Value::Null);
                cx.set(
                    &[
                        "hub",
                        "config",
                        "KubeSpawner",
                        "automount_service_account_token",
                    ],
                    json!(false),
                );
            }
            ApiAccessMode::WorkloadIdentity => lower_workload_identity(p, cx),
            ApiAccessMode::PodCreator => lower_pod_creator(p, cx),
        }
    }

    fn judge(&self, v: &ValuesView) -> super::Judgement {
        let keys = (|| -> ReadBack {
            if v.extra_config_mentions("service_account") {
                return ReadBack::CannotVerify {
                    reason: "hub.extraConfig sets KubeSpawner service account options in Python"
                        .into(),
                };
            }
            let sa = v.str(&["singleuser", "serviceAccountName"]);
            let automount = v.bool(&[
                "hub",
                "config",
                "KubeSpawner",
                "automount_service_account_token",
            ]);
            match sa {
                None if automount != Some(true) => ReadBack::Setting(api::NONE.selected()),
                Some(name) if !name.is_empty() => {
                    let (setting, detail, _) = account(v, name);
                    ReadBack::Setting(setting.with(detail))
                }
                // "" or an explicit automount without an account: the namespace default token is mounted.
                _ => ReadBack::Setting(api::POD_CREATOR.with(DEFAULT_ACCOUNT)),
            }
        })();
        let effective = v.judge_pods(&API_ACCESS, |pod, n| {
            match crate::effective::grade::token(pod, n) {
                Verdict::Found(f) if !f.is(&api::NONE) => {
                    let name = pod
                        .json
                        .pointer("/spec/serviceAccountName")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty());
                    let (setting, detail, by) = match name {
                        Some(name) => account(v, name),
                        None => (&api::POD_CREATOR, DEFAULT_ACCOUNT.to_string(), None),
                    };
                    Verdict::Found(Found {
                        setting,
                        detail: Some(detail),
                        by: by.or(f.by),
                        pod: f.pod,
                    })
                }
                other => other,
            }
        });
        let mut j = super::reconcile(keys, effective);
        // A named account without RBAC in sight: the grants may be applied
        // elsewhere, so only a weaker reading is certain.
        if v.manifests.is_none()
            && let ReadBack::Setting(s) = &j.read_back
            && s.is(&api::WORKLOAD_IDENTITY)
        {
            let name = s.detail.clone().unwrap_or_default();
            let by =
                j.by.clone()
                    .unwrap_or_else(|| Origin::values(&["singleuser", "serviceAccountName"]));
            j.unverified = Some((
                format!(
                    "which Roles are bound to `{name}` is not in the values (RoleBindings are manifests: pass them with --manifests)"
                ),
                by,
            ));
        }
        j
    }

    fn parameters(&self, p: &Policy, v: &ValuesView) -> Vec<String> {
        let want = self.selected(p).setting;
        if super::read_setting(self, v).is_none_or(|got| !got.is(want)) {
            return Vec::new();
        }
        let Some(wi) = p
            .spec
            .api_access
            .workload_identity
            .as_ref()
            .filter(|_| p.spec.api_access.mode == ApiAccessMode::WorkloadIdentity)
        else {
            return Vec::new();
        };
        let account = wi.service_account.as_str();
        let mut out = Vec::new();
        for (pod, n) in &v.deployment().pods {
            if !matches!(crate::effective::grade::token(pod, n), Verdict::Found(f) if !f.is(&api::NONE))
            {
                continue;
            }
            let got = pod
                .json
                .pointer("/spec/serviceAccountName")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or("default");
            if got != account {
                out.push(format!(
                    "user pods run as `{got}` ({}), the policy's account is `{account}`",
                    pod.label
                ));
            }
            if wi.provider == Some(IdentityProvider::Aks)
                && pod
                    .json
                    .pointer(&format!(
                        "/metadata/labels/{}",
                        crate::paths::escape_pointer(AKS_LABEL)
                    ))
                    .and_then(Value::as_str)
                    != Some("true")
            {
                out.push(format!(
                    "user pods ({}) lack the label `{AKS_LABEL}: \"true\"`, so AKS gives them no workload identity",
                    pod.label
                ));
            }
        }
        // The identity the account is bound to, where its manifest is given.
        if let (Some(provider), Some(identity)) = (wi.provider, &wi.identity)
            && let Some(key) = annotation(provider)
            && let Some(sa) = v.manifest("ServiceAccount", Some(account))
        {
            let bound = sa
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(key))
                .and_then(Value::as_str);
            if bound != Some(identity.as_str()) {
                out.push(format!(
                    "ServiceAccount `{account}` is bound to {}, the policy's identity is `{identity}`",
                    bound.map_or_else(|| format!("no `{key}`"), |b| format!("`{b}`"))
                ));
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn admission(&self, p: &Policy) -> Vec<Validation> {
        let no_automount = "(has(object.spec.automountServiceAccountToken) && object.spec.automountServiceAccountToken == false)";
        let no_projected = "(!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.projected) || !has(v.projected.sources) || v.projected.sources.all(s, !has(s.serviceAccountToken))))";
        let a = &p.spec.api_access;
        match a.mode {
            ApiAccessMode::None => vec![Validation::user(
                API_ACCESS.field,
                "the pod must not mount a service-account token (automountServiceAccountToken: false, no projected serviceAccountToken volume)",
                format!("{no_automount} && {no_projected}"),
            )],
            ApiAccessMode::WorkloadIdentity => match &a.workload_identity {
                Some(wi) => vec![Validation::user(
                    API_ACCESS.field,
                    format!(
                        "a user server that holds a service-account token (automounted or projected) must run as `{}`",
                        wi.service_account
                    ),
                    format!(
                        "(has(object.spec.serviceAccountName) && object.spec.serviceAccountName == {}) || ({no_automount} && {no_projected})",
                        cel::string(&wi.service_account)
                    ),
                )],
                None => Vec::new(),
            },
            ApiAccessMode::PodCreator => match &a.pod_creator {
                Some(pc) => vec![Validation::user(
                    API_ACCESS.field,
                    format!(
                        "a user server that mounts a service-account token must use `{}` (pods in the workload namespace are not held to this)",
                        pc.service_account
                    ),
                    format!(
                        "request.namespace != {} || {no_automount} || (has(object.spec.serviceAccountName) && object.spec.serviceAccountName == {})",
                        cel::string(&p.metadata.namespace),
                        cel::string(&pc.service_account)
                    ),
                )],
                None => Vec::new(),
            },
        }
    }

    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        if got.is(&api::NONE) {
            p.spec.api_access.mode = ApiAccessMode::None;
            Vec::new()
        } else if got.is(&api::WORKLOAD_IDENTITY) {
            propose_workload_identity(v, p)
        } else {
            propose_pod_creator(v, p, &got)
        }
    }
}

const DEFAULT_ACCOUNT: &str = "namespace default service account";

/// What running as `name` with its token grants: no RBAC in sight
/// (workload identity), or RBAC (pod-creator: the namespace default
/// account, a chart account, or a binding among the manifests); the detail
/// and the binding.
fn account(v: &ValuesView, name: &str) -> (&'static Setting, String, Option<Origin>) {
    if name == "default" {
        return (&api::POD_CREATOR, DEFAULT_ACCOUNT.into(), None);
    }
    for (default, key) in CHART_ACCOUNTS {
        if v.str(key).unwrap_or(default) == name {
            return (
                &api::POD_CREATOR,
                format!("`{name}`, the chart's own ServiceAccount and its RBAC"),
                None,
            );
        }
    }
    let sa_ns = v
        .manifest("ServiceAccount", Some(name))
        .and_then(|m| m.pointer("/metadata/namespace"))
        .and_then(Value::as_str);
    for (i, m) in v.manifests.unwrap_or_default().iter().enumerate() {
        let kind = m["kind"].as_str().unwrap_or_default();
        if kind != "RoleBinding" && kind != "ClusterRoleBinding" {
            continue;
        }
        let Some(subjects) = m["subjects"].as_array() else {
            continue;
        };
        let hit = subjects.iter().position(|s| {
            let sname = s["name"].as_str().unwrap_or_default();
            match s["kind"].as_str() {
                Some("ServiceAccount") => {
                    sname == name
                        && (sa_ns.is_none()
                            || s["namespace"].as_str().is_none_or(|n| Some(n) == sa_ns))
                }
                Some("Group") => {
                    sname == "system:authenticated"
                        || sname == "system:serviceaccounts"
                        || sname
                            .strip_prefix("system:serviceaccounts:")
                            .is_some_and(|n| sa_ns.is_none_or(|ns| ns == n))
                }
                _ => false,
            }
        });
        if let Some(j) = hit {
            let binding = m.pointer("/metadata/name").and_then(Value::as_str);
            return (
                &api::POD_CREATOR,
                format!(
                    "{name}, bound to {} `{}` by {kind} `{}`",
                    m.pointer("/roleRef/kind")
                        .and_then(Value::as_str)
                        .unwrap_or("a role"),
                    m.pointer("/roleRef/name")
                        .and_then(Value::as_str)
                        .unwrap_or("?"),
                    binding.unwrap_or("?")
                ),
                Some(v.manifest_origin(i, &["subjects", &j.to_string()])),
            );
        }
    }
    (&api::WORKLOAD_IDENTITY, name.to_string(), None)
}

pub struct ProxyToken;

/// Settings of `proxy-token`.
pub(crate) mod proxy_token {
    use crate::controls::Setting;

    pub static DISABLED: Setting = Setting {
        name: "disabled",
        rank: 0,
        summary: "`proxy.chp.extraPodSpec.automountServiceAccountToken: false`",
    };
    pub static MOUNTED: Setting = Setting {
        name: "mounted",
        rank: 1,
        summary: "the chart default: the `default` ServiceAccount token is mounted",
    };

    /// The setting of a mounted token (or not).
    pub fn of(mounted: bool) -> &'static Setting {
        if mounted { &MOUNTED } else { &DISABLED }
    }
}

static PROXY_TOKEN: ControlDef = ControlDef {
    id: "proxy-token",
    title: "Service-account token in the proxy pod",
    field: "/spec/apiAccess/proxyToken",
    rationale: "The chart gives the proxy pod the namespace's default token although the proxy never calls the API; \
        a compromised proxy should not hold credentials.",
    settings: &[&proxy_token::DISABLED, &proxy_token::MOUNTED],
    values_keys: &["proxy.chp.extraPodSpec.automountServiceAccountToken"],
    read_only_keys: &[],
    spawner_traits: &[],
};

impl Control for ProxyToken {
    fn def(&self) -> &'static ControlDef {
        &PROXY_TOKEN
    }
    fn selected(&self, p: &Policy) -> Selected {
        proxy_token::of(p.spec.api_access.proxy_token).selected()
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        if !p.spec.api_access.proxy_token {
            cx.set(
                &[
                    "proxy",
                    "chp",
                    "extraPodSpec",
                    "automountServiceAccountToken",
                ],
                json!(false),
            );
        }
    }
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        let off = v.bool(&[
            "proxy",
            "chp",
            "extraPodSpec",
            "automountServiceAccountToken",
        ]) == Some(false);
        ReadBack::Setting(proxy_token::of(!off).selected())
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        if let Some(got) = super::read_setting(self, v) {
            p.spec.api_access.proxy_token = got.is(&proxy_token::MOUNTED);
        }
        Vec::new()
    }
}

/// The ServiceAccounts this control emits opt out of automounting, so the
/// user pods that need the token opt back in.
fn mount_token(cx: &mut Lowering) {
    cx.set(
        &[
            "hub",
            "config",
            "KubeSpawner",
            "automount_service_account_token",
        ],
        json!(true),
    );
}

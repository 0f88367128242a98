//! Kubernetes API access from user pods, and the proxy pod's token.

use serde_json::{Value, json};

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::admission::{Validation, cel};
use crate::controls::lowering::Lowering;
use crate::effective::Origin;
use crate::effective::grade::{Found, Verdict};
use crate::plan::{Group, Selected};
use crate::policy::{
    ApiAccessMode, ApiServer, Cidr, EgressProfile, IdentityProvider, PodCreator, PodCreatorExtra,
    Policy, Port, Protocol, WorkloadIdentity,
};
use crate::validate::formats::{CloudIdentity, cidr_contains, k8s_subdomain};

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

const WI: &str = "/spec/apiAccess/workloadIdentity";

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

/// The EKS Pod Identity Agent's address on every node (IPv4, IPv6), port 80.
const POD_IDENTITY_AGENT: [&str; 2] = ["169.254.170.23/32", "fd00:ec2::23/128"];

/// The annotation that binds a ServiceAccount to its cloud identity.
fn annotation(provider: IdentityProvider) -> Option<&'static str> {
    match provider {
        IdentityProvider::Gke => Some("iam.gke.io/gcp-service-account"),
        IdentityProvider::Eks => Some("eks.amazonaws.com/role-arn"),
        IdentityProvider::EksPodIdentity => None,
        IdentityProvider::Aks => Some("azure.workload.identity/client-id"),
    }
}

/// The form of identity each provider takes.
fn identity_kind(provider: IdentityProvider) -> CloudIdentity {
    match provider {
        IdentityProvider::Gke => CloudIdentity::GoogleServiceAccount,
        IdentityProvider::Eks | IdentityProvider::EksPodIdentity => CloudIdentity::AwsRole,
        IdentityProvider::Aks => CloudIdentity::AzureClientId,
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

fn lower_workload_identity(p: &Policy, cx: &mut Lowering) {
    let Some(wi) = &p.spec.api_access.workload_identity else {
        cx.error(
            API_ACCESS.field,
            "`spec.apiAccess.mode: workload-identity` needs `spec.apiAccess.workloadIdentity`",
            "add `workloadIdentity: {serviceAccount: user-sa, provider: gke|eks|eks-pod-identity|aks, identity: <IAM service account email, role ARN or client ID>}`",
        );
        return;
    };
    let sa = &wi.service_account;
    let ns = cx.namespace().to_string();
    let mut refused = false;
    if sa == "default" || CHART_ACCOUNTS.iter().any(|(n, _)| n == sa) {
        cx.error(
            &format!("{WI}/serviceAccount"),
            format!("`{sa}` is an account other pods run as"),
            if sa == "default" {
                "every pod without a ServiceAccount runs as `default`; name a ServiceAccount of the user servers' own".to_string()
            } else {
                format!("`{sa}` is the chart's own ServiceAccount and holds its RBAC; name a ServiceAccount of the user servers' own")
            },
        );
        refused = true;
    }
    match (wi.provider, &wi.identity) {
        (Some(provider), Some(identity)) => {
            let want = identity_kind(provider);
            if CloudIdentity::of(identity) != Some(want) {
                cx.error(
                    &format!("{WI}/identity"),
                    format!(
                        "provider `{}` binds the account to {}",
                        provider.as_str(),
                        want.expected()
                    ),
                    "set `identity` to the identity of that provider",
                );
                refused = true;
            }
        }
        (Some(provider), None) => {
            cx.error(
                &format!("{WI}/provider"),
                format!("provider `{}` needs `identity`", provider.as_str()),
                identity_kind(provider).expected(),
            );
            refused = true;
        }
        (None, Some(_)) => {
            cx.error(
                &format!("{WI}/identity"),
                "`identity` needs `provider`",
                "set `provider: gke|eks|eks-pod-identity|aks`, or leave both out when the ServiceAccount is managed elsewhere",
            );
            refused = true;
        }
        (None, None) => {}
    }
    if refused {
        return;
    }
    cx.set_at(
        &format!("{WI}/serviceAccount"),
        &["singleuser", "serviceAccountName"],
        json!(sa),
    );
    mount_token(cx);
    let Some(provider) = wi.provider else {
        cx.note(
            &format!("{WI}/serviceAccount"),
            format!(
                "no ServiceAccount is emitted: `{sa}` must exist in `{ns}` with its cloud identity and no Role or ClusterRole bound to it (set `provider` and `identity` to have it compiled)"
            ),
        );
        warn_shared(cx, sa, None);
        return;
    };
    let identity = wi.identity.clone().unwrap_or_default();
    let mut annotations = serde_json::Map::new();
    if let Some(key) = annotation(provider) {
        annotations.insert(key.into(), json!(identity));
    }
    if provider == IdentityProvider::Aks {
        cx.set_at(
            &format!("{WI}/provider"),
            &["singleuser", "extraLabels", AKS_LABEL],
            json!("true"),
        );
    }
    cx.manifest(
        Group::Rbac,
        "workload-identity.yaml",
        json!({
            "hub": p.metadata.name,
            "namespace": ns,
            "service_account": sa,
            "annotations": annotations,
        }),
    );
    let subject = format!("system:serviceaccount:{ns}:{sa}");
    let setup = match provider {
        IdentityProvider::Gke => format!(
            "let `{ns}/{sa}` act as `{identity}`: grant it `roles/iam.workloadIdentityUser` on that service account (member `serviceAccount:PROJECT_ID.svc.id.goog[{ns}/{sa}]`); node pools that run user servers need Workload Identity Federation for GKE (`--workload-metadata=GKE_METADATA`; Autopilot always has it)"
        ),
        IdentityProvider::Eks => format!(
            "the trust policy of `{identity}` must let the cluster's OIDC provider assume it for `{subject}` (`sts:AssumeRoleWithWebIdentity`); the EKS pod identity webhook projects the token, which is exchanged with AWS STS without the metadata server"
        ),
        IdentityProvider::EksPodIdentity => format!(
            "associate the role with the account: `aws eks create-pod-identity-association --cluster-name <cluster> --namespace {ns} --service-account {sa} --role-arn {identity}` (its trust policy must trust `pods.eks.amazonaws.com`); the EKS Pod Identity Agent hands out the credentials at 169.254.170.23 (fd00:ec2::23 on IPv6), port 80"
        ),
        IdentityProvider::Aks => format!(
            "add a federated identity credential to the managed identity `{identity}` for the cluster's OIDC issuer, subject `{subject}`, audience `api://AzureADTokenExchange`; user pods carry the label `{AKS_LABEL}: \"true\"`, so AKS's webhook projects the token"
        ),
    };
    cx.note(&format!("{WI}/provider"), setup);
    if provider == IdentityProvider::EksPodIdentity {
        check_pod_identity_egress(p, cx);
    }
    warn_shared(cx, sa, Some(&identity));
}

/// Every user server holds the same cloud identity.
fn warn_shared(cx: &mut Lowering, sa: &str, identity: Option<&str>) {
    cx.warn(
        API_ACCESS.field,
        format!(
            "every user server runs as `{sa}`: all users share the cloud permissions of {}",
            identity.map_or_else(|| "its identity".to_string(), |i| format!("`{i}`"))
        ),
        format!(
            "grant that identity only what every user may do (one bucket or prefix, read-only data sets); one account cannot keep users' data apart. Pods also get a Kubernetes API token for `{sa}`, with no Role bound to it here"
        ),
    );
}

/// EKS Pod Identity needs the agent's address: the chart's `nonPrivateIPs`
/// rule (the `internet` profile) reaches it, the narrower profiles need an
/// `egress.allow` rule for it.
fn check_pod_identity_egress(p: &Policy, cx: &mut Lowering) {
    let e = &p.spec.egress;
    if !p.spec.network_policy.singleuser || e.profile == EgressProfile::Internet {
        return;
    }
    let allowed = e.allow.iter().any(|r| {
        cidr_contains(&r.cidr.0, POD_IDENTITY_AGENT[0])
            && !r
                .except
                .iter()
                .any(|x| cidr_contains(&x.0, POD_IDENTITY_AGENT[0]))
            && (r.ports.is_empty()
                || r.ports
                    .iter()
                    .any(|p| p.port.0 == 80 && p.protocol == Protocol::Tcp))
    });
    if !allowed {
        cx.error(
            "/spec/egress/allow",
            "user pods cannot reach the EKS Pod Identity Agent at 169.254.170.23:80, so they get no credentials",
            "add `{cidr: 169.254.170.23/32, ports: [{port: 80}]}` to `egress.allow` (and `fd00:ec2::23/128` on IPv6 clusters)",
        );
    }
}

fn propose_workload_identity(v: &ValuesView, p: &mut Policy) -> Vec<String> {
    // The chart key, or the account the built pods run as (set through
    // `hub.config.KubeSpawner.service_account`).
    let built = v.deployment().pods.iter().find_map(|(pod, _)| {
        pod.json
            .pointer("/spec/serviceAccountName")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    });
    let Some(sa) = v
        .str(&["singleuser", "serviceAccountName"])
        .map(str::to_string)
        .or(built)
    else {
        return Vec::new();
    };
    let sa = sa.as_str();
    if k8s_subdomain(sa).is_err() {
        // Kubernetes refuses the name too; keep the weakest reading.
        return propose_pod_creator(v, p, &api::POD_CREATOR.with(sa));
    }
    let mut lost = Vec::new();
    let (mut provider, mut identity) = (None, None);
    match v.manifest("ServiceAccount", Some(sa)) {
        None => lost.push(format!(
            "user pods run as `{sa}`, whose cloud identity is not in the values: set `apiAccess.workloadIdentity.provider` and `identity` (or pass the ServiceAccount with --manifests); without them compile emits no ServiceAccount and leaves `{sa}` as it is"
        )),
        Some(doc) => {
            let annotations = doc.pointer("/metadata/annotations");
            let found = [
                IdentityProvider::Gke,
                IdentityProvider::Eks,
                IdentityProvider::Aks,
            ]
            .into_iter()
            .find_map(|pr| {
                let key = annotation(pr)?;
                let value = annotations?.get(key)?.as_str()?;
                Some((pr, key, value))
            });
            match found {
                None => lost.push(format!(
                    "ServiceAccount `{sa}` carries no GKE, EKS (IRSA) or AKS identity annotation; if EKS Pod Identity binds it, set `provider: eks-pod-identity` and `identity: <role ARN>` — until then compile emits no ServiceAccount and leaves `{sa}` as it is"
                )),
                Some((pr, key, value)) if CloudIdentity::of(value) != Some(identity_kind(pr)) => {
                    lost.push(format!(
                        "ServiceAccount `{sa}` has `{key}: {value}`, which is not {}; the proposal leaves `provider` and `identity` out, so compile emits no ServiceAccount",
                        identity_kind(pr).expected()
                    ))
                }
                Some((IdentityProvider::Aks, _, _))
                    if v.str(&["singleuser", "extraLabels", AKS_LABEL]) != Some("true") =>
                {
                    lost.push(format!(
                        "ServiceAccount `{sa}` has AKS's client-id annotation, but user pods lack the label `{AKS_LABEL}: \"true\"`, so they do not get that identity now; the proposal leaves `provider` and `identity` out — set `provider: aks` to compile both"
                    ))
                }
                Some((pr, _, value)) => {
                    provider = Some(pr);
                    identity = Some(value.to_string());
                }
            }
        }
    }
    p.spec.api_access.mode = ApiAccessMode::WorkloadIdentity;
    p.spec.api_access.workload_identity = Some(WorkloadIdentity {
        service_account: sa.to_string(),
        provider,
        identity,
    });
    lost
}

fn propose_pod_creator(v: &ValuesView, p: &mut Policy, got: &Selected) -> Vec<String> {
    // The language expresses RBAC for user pods only as pod-creator; what
    // the values do not say is filled with placeholders to review.
    let valid = |s: &&str| crate::validate::formats::k8s_name(s).is_ok();
    let sa = v.str(&["singleuser", "serviceAccountName"]).filter(valid);
    let ns = v
        .str(&["singleuser", "extraEnv", "USER_WORKLOAD_NAMESPACE"])
        .filter(valid)
        .filter(|ns| *ns != p.metadata.namespace);
    let mut lost = vec![format!(
        "user pods mount a Kubernetes API token ({}); the language expresses this only as `apiAccess.mode: pod-creator`, whose RBAC and workload namespace the values do not show",
        got.detail.as_deref().unwrap_or("service account")
    )];
    lost.push(
        "review `apiAccess.podCreator`: `apiServer.cidrs` is a placeholder (192.0.2.1/32)".into(),
    );
    if ns.is_none() {
        lost.push("review `apiAccess.podCreator.workloadNamespace`: a placeholder".into());
    }
    p.spec.api_access.mode = ApiAccessMode::PodCreator;
    p.spec.api_access.pod_creator = Some(PodCreator {
        service_account: sa.unwrap_or("jupyter-user").to_string(),
        workload_namespace: ns
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}-workloads", p.metadata.namespace)),
        api_server: ApiServer {
            cidrs: vec![Cidr("192.0.2.1/32".into())],
            ports: vec![Port(443)],
        },
        extra_permissions: Vec::new(),
    });
    lost
}

fn lower_pod_creator(p: &Policy, cx: &mut Lowering) {
    const PTR: &str = "/spec/apiAccess/podCreator";
    let Some(pc) = &p.spec.api_access.pod_creator else {
        cx.error(
            API_ACCESS.field,
            "`spec.apiAccess.mode: pod-creator` needs `spec.apiAccess.podCreator`",
            "add `podCreator: {serviceAccount: jupyter-user, workloadNamespace: <ns>, apiServer: {cidrs: [<API server IP>/32], ports: [443]}}`",
        );
        return;
    };
    let ns = cx.namespace().to_string();
    if pc.workload_namespace == ns {
        cx.error(
            &format!("{PTR}/workloadNamespace"),
            format!("`workloadNamespace` must differ from the hub namespace `{ns}`"),
            "pods created in the hub namespace can mount the hub Secret and run as the hub's ServiceAccount, which is the whole hub; use a separate namespace",
        );
        return;
    }
    cx.set(
        &["singleuser", "serviceAccountName"],
        json!(pc.service_account),
    );
    cx.set(
        &["singleuser", "extraEnv", "USER_WORKLOAD_NAMESPACE"],
        json!(pc.workload_namespace),
    );
    mount_token(cx);
    let to: Vec<Value> = pc
        .api_server
        .cidrs
        .iter()
        .map(|c| json!({"ipBlock": {"cidr": c.0}}))
        .collect();
    let ports: Vec<Value> = pc
        .api_server
        .ports
        .iter()
        .map(|p| json!({"protocol": "TCP", "port": p.0}))
        .collect();
    cx.append_at(
        &format!("{PTR}/apiServer"),
        &["singleuser", "networkPolicy", "egress"],
        json!({"to": to, "ports": ports}),
    );

    let mut rules = vec![
        json!({"apiGroups": [""], "resources": ["pods", "persistentvolumeclaims"], "verbs": ["get", "watch", "list", "create", "delete"]}),
        json!({"apiGroups": [""], "resources": ["events"], "verbs": ["get", "watch", "list"]}),
    ];
    if pc.extra_permissions.contains(&PodCreatorExtra::Logs) {
        rules.push(json!({"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}));
    }
    if pc.extra_permissions.contains(&PodCreatorExtra::Exec) {
        rules.push(json!({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}));
    }
    let ctx = json!({
        "hub": p.metadata.name,
        "namespace": ns,
        "workload_namespace": pc.workload_namespace,
        "service_account": pc.service_account,
        "rules": rules,
        "psa_version": crate::controls::pod_security::psa_version(p),
    });
    cx.manifest(Group::Namespace, "workload-namespace.yaml", ctx.clone());
    cx.manifest(Group::Rbac, "pod-creator-rbac.yaml", ctx.clone());
    cx.manifest(Group::Network, "workload-network.yaml", ctx);
    cx.warn(
        API_ACCESS.field,
        "user pods get an API token that can create pods and PVCs",
        format!(
            "users can run any image in `{}` within its Pod Security level (restricted); `persistentvolumeclaims: create` can also bind unclaimed PersistentVolumes — pre-bind static PVs with claimRef",
            pc.workload_namespace
        ),
    );
    cx.note(
        &format!("{PTR}/apiServer"),
        "user pods may reach the API server at the listed CIDRs; use the endpoint IPs of the `kubernetes` Service (`kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes`)",
    );
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

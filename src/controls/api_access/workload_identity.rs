//! `workload-identity`: user servers run as one ServiceAccount bound to a cloud identity.

use serde_json::{Value, json};

use super::pod_creator::propose_pod_creator;
use super::{AKS_LABEL, API_ACCESS, CHART_ACCOUNTS, annotation, api, mount_token};
use crate::controls::ValuesView;
use crate::controls::lowering::Lowering;
use crate::plan::Group;
use crate::policy::{
    ApiAccessMode, EgressProfile, IdentityProvider, Policy, Protocol, WorkloadIdentity,
};
use crate::validate::formats::{CloudIdentity, cidr_contains, k8s_subdomain};

const WI: &str = "/spec/apiAccess/workloadIdentity";

/// The EKS Pod Identity Agent's address on every node (IPv4, IPv6), port 80.
const POD_IDENTITY_AGENT: [&str; 2] = ["169.254.170.23/32", "fd00:ec2::23/128"];

/// The form of identity each provider takes.
fn identity_kind(provider: IdentityProvider) -> CloudIdentity {
    match provider {
        IdentityProvider::Gke => CloudIdentity::GoogleServiceAccount,
        IdentityProvider::Eks | IdentityProvider::EksPodIdentity => CloudIdentity::AwsRole,
        IdentityProvider::Aks => CloudIdentity::AzureClientId,
    }
}

pub(super) fn lower_workload_identity(p: &Policy, cx: &mut Lowering) {
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

pub(super) fn propose_workload_identity(v: &ValuesView, p: &mut Policy) -> Vec<String> {
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

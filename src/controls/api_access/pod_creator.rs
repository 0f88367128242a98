//! `pod-creator`: a ServiceAccount that may create pods and PVCs in a separate workload namespace.

use serde_json::{Value, json};

use super::{API_ACCESS, mount_token};
use crate::controls::ValuesView;
use crate::controls::lowering::Lowering;
use crate::plan::{Group, Selected};
use crate::policy::{ApiAccessMode, ApiServer, Cidr, PodCreator, PodCreatorExtra, Policy, Port};

pub(super) fn propose_pod_creator(v: &ValuesView, p: &mut Policy, got: &Selected) -> Vec<String> {
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

pub(super) fn lower_pod_creator(p: &Policy, cx: &mut Lowering) {
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

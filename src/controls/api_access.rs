//! Kubernetes API access from user pods, and the proxy pod's token.

use serde_json::{Value, json};

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::admission::{Validation, cel};
use crate::lower::Lowering;
use crate::plan::{Group, Selected};
use crate::policy::{ApiAccessMode, ApiServer, Cidr, PodCreator, PodCreatorExtra, Policy, Port};

pub struct ApiAccessControl;

static API_ACCESS: ControlDef = ControlDef {
    id: "api-access",
    title: "Kubernetes API access for user pods",
    field: "/spec/apiAccess/mode",
    rationale: "A service-account token in a user pod lets the user talk to the Kubernetes API as that account; \
        without a token a compromised server cannot touch the cluster.",
    settings: &[
        Setting {
            name: "none",
            rank: 0,
            summary: "no token in user pods (`serviceAccountName: null` gives `automountServiceAccountToken: false`)",
        },
        Setting {
            name: "pod-creator",
            rank: 1,
            summary: "user pods get a ServiceAccount that may create pods and PVCs in a separate workload namespace",
        },
    ],
    values_keys: &[
        "singleuser.serviceAccountName",
        "hub.config.KubeSpawner.automount_service_account_token",
        "hub.extraConfig",
    ],
    spawner_traits: &["service_account", "automount_service_account_token"],
};

impl Control for ApiAccessControl {
    fn def(&self) -> &'static ControlDef {
        &API_ACCESS
    }

    fn selected(&self, p: &Policy) -> Selected {
        match p.spec.api_access.mode {
            ApiAccessMode::None => Selected::of(0),
            ApiAccessMode::PodCreator => Selected::of(1),
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
                None if automount != Some(true) => ReadBack::Setting(Selected::of(0)),
                Some(name) if !name.is_empty() => ReadBack::Setting(Selected::with(1, name)),
                // "" or an explicit automount without an account: the namespace default token is mounted.
                _ => ReadBack::Setting(Selected::with(1, "namespace default service account")),
            }
        })();
        super::reconcile(
            keys,
            v.judge_pods(&API_ACCESS, crate::effective::grade::token),
        )
    }
    fn admission(&self, p: &Policy) -> Vec<Validation> {
        let no_automount = "(has(object.spec.automountServiceAccountToken) && object.spec.automountServiceAccountToken == false)";
        match (&p.spec.api_access.mode, &p.spec.api_access.pod_creator) {
            (ApiAccessMode::None, _) => vec![Validation::user(
                API_ACCESS.field,
                "the pod must not mount a service-account token (automountServiceAccountToken: false, no projected serviceAccountToken volume)",
                format!(
                    "{no_automount} && (!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.projected) || !has(v.projected.sources) || v.projected.sources.all(s, !has(s.serviceAccountToken))))"
                ),
            )],
            (ApiAccessMode::PodCreator, Some(pc)) => vec![Validation::user(
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
            _ => Vec::new(),
        }
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        if got.index == 0 {
            p.spec.api_access.mode = ApiAccessMode::None;
            return Vec::new();
        }
        // The language expresses API access only as pod-creator; what the
        // values do not say is filled with placeholders to review.
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
            "review `apiAccess.podCreator`: `apiServer.cidrs` is a placeholder (192.0.2.1/32)"
                .into(),
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
    // The ServiceAccount opts out of automounting, so pods must opt back in.
    cx.set(
        &[
            "hub",
            "config",
            "KubeSpawner",
            "automount_service_account_token",
        ],
        json!(true),
    );
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

static PROXY_TOKEN: ControlDef = ControlDef {
    id: "proxy-token",
    title: "Service-account token in the proxy pod",
    field: "/spec/apiAccess/proxyToken",
    rationale: "The chart gives the proxy pod the namespace's default token although the proxy never calls the API; \
        a compromised proxy should not hold credentials.",
    settings: &[
        Setting {
            name: "disabled",
            rank: 0,
            summary: "`proxy.chp.extraPodSpec.automountServiceAccountToken: false`",
        },
        Setting {
            name: "mounted",
            rank: 1,
            summary: "the chart default: the `default` ServiceAccount token is mounted",
        },
    ],
    values_keys: &["proxy.chp.extraPodSpec.automountServiceAccountToken"],
    spawner_traits: &[],
};

impl Control for ProxyToken {
    fn def(&self) -> &'static ControlDef {
        &PROXY_TOKEN
    }
    fn selected(&self, p: &Policy) -> Selected {
        Selected::of(usize::from(p.spec.api_access.proxy_token))
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
        ReadBack::Setting(Selected::of(if off { 0 } else { 1 }))
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        if let Some(got) = super::read_setting(self, v) {
            p.spec.api_access.proxy_token = got.index == 1;
        }
        Vec::new()
    }
}

//! TLS between hub, proxy and user servers. The chart speaks plain HTTP
//! inside the cluster and cannot do otherwise; a service mesh (Istio or
//! Linkerd) can, with its sidecars' mutual TLS.
//!
//! What the meshes need, as their documentation states it:
//! - Istio injects sidecars into pods of a namespace labelled
//!   `istio-injection: enabled` (or `istio.io/rev: <revision>`); a
//!   `PeerAuthentication` without selector and `mtls.mode: STRICT` makes
//!   every sidecar of the namespace refuse plaintext. Sidecars fetch
//!   configuration and certificates from istiod on port 15012. Istio sends
//!   mTLS only to addresses it knows from Services: a connection to a bare
//!   pod IP leaves as plaintext, which STRICT refuses, so KubeSpawner must
//!   front each user pod with a Service (`services_enabled`, documented by
//!   KubeSpawner 6.2.0 and 7.0.0 for this very case).
//! - Linkerd injects pods of a namespace annotated `linkerd.io/inject:
//!   enabled`; `config.linkerd.io/default-inbound-policy: all-authenticated`
//!   on the namespace admits only meshed (mTLS) clients. Proxies reach the
//!   control plane on 8080 (identity), 8086 (destination) and 8090
//!   (policy), and a meshed client sends to the server's proxy port 4143
//!   instead of the application port, so NetworkPolicies must admit 4143.
//!   Linkerd resolves pod IPs itself: KubeSpawner's pod-IP connections stay
//!   mTLS.
//! - Both inject, without their CNI plugin, an init container with
//!   NET_ADMIN and NET_RAW that only the `privileged` Pod Security level
//!   admits; sidecars run as their own uid (Istio 1337, Linkerd 2102).

use serde_json::{Map, Value, json};

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::controls::lowering::Lowering;
use crate::plan::{Group, Selected};
use crate::policy::{
    AdmissionMode, HttpsMode, IdentityMode, InternalTls, InternalTlsMode, Mesh, MeshTls,
    MetadataMode, Policy,
};

mod mesh;

use mesh::{control_plane_namespace, entry, network_policies};
pub use mesh::{namespace_metadata, privileged_reason};

pub struct InternalTlsControl;

static REQUIRED: Setting = Setting {
    name: "required",
    rank: 0,
    summary: "refused: the chart cannot configure internal TLS itself; ask for a mesh",
};
static MESH_STRICT: Setting = Setting {
    name: "mesh-strict",
    rank: 0,
    summary: "Istio or Linkerd sidecars in every hub pod; mutual TLS required between them (PeerAuthentication STRICT, or Linkerd's `all-authenticated` inbound policy)",
};
static MESH_PERMISSIVE: Setting = Setting {
    name: "mesh-permissive",
    rank: 1,
    summary: "meshed pods talk mutual TLS to each other but still accept plaintext (PeerAuthentication PERMISSIVE, or Linkerd's default inbound policy)",
};
static NOT_REQUIRED: Setting = Setting {
    name: "not-required",
    rank: 2,
    summary: "plain HTTP inside the cluster, as the chart does",
};

static DEF: ControlDef = ControlDef {
    id: "internal-tls",
    title: "TLS inside the cluster",
    field: "/spec/internalTls",
    rationale: "Traffic between proxy, hub and user servers is plain HTTP in z2jh; anyone who can sniff the pod network reads \
        tokens and notebooks. A service mesh encrypts it with mutual TLS between sidecars. The price: a sidecar in every pod, \
        a privileged init container unless the mesh's CNI plugin is installed, and a sidecar uid that admission checks of \
        every container's uid refuse.",
    settings: &[&REQUIRED, &MESH_STRICT, &MESH_PERMISSIVE, &NOT_REQUIRED],
    values_keys: &[
        "hub.extraConfig",
        "hub.config.KubeSpawner.services_enabled",
        "hub.annotations",
        "proxy.annotations",
        "singleuser.extraAnnotations",
        "singleuser.extraLabels",
        "prePuller.annotations",
        "prePuller.labels",
        "scheduling.userPlaceholder.annotations",
        "scheduling.userPlaceholder.labels",
    ],
    read_only_keys: &[
        "hub.extraConfig",
        "hub.annotations",
        "proxy.annotations",
        "singleuser.extraAnnotations",
        "singleuser.extraLabels",
    ],
    spawner_traits: &[],
};

static FOUND_ONLY: &[&Setting] = &[&MESH_PERMISSIVE];

const ISTIO_INJECT: &str = "sidecar.istio.io/inject";
const LINKERD_INJECT: &str = "linkerd.io/inject";
const LINKERD_POLICY: &str = "config.linkerd.io/default-inbound-policy";
/// Linkerd inbound policies that admit only meshed clients.
const LINKERD_STRICT: &[&str] = &["all-authenticated", "cluster-authenticated", "deny"];

fn mesh_name(m: Mesh) -> &'static str {
    match m {
        Mesh::Istio => "istio",
        Mesh::Linkerd => "linkerd",
    }
}

/// The namespace-wide PeerAuthentication (no selector), with its index
/// among the manifests: the one that sets Istio's mode for every pod.
fn namespace_peer_authentication<'v>(v: &'v ValuesView) -> Option<(usize, &'v Value)> {
    v.manifests
        .unwrap_or_default()
        .iter()
        .enumerate()
        .find(|(_, m)| m["kind"] == "PeerAuthentication" && m.pointer("/spec/selector").is_none())
}

impl Control for InternalTlsControl {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn pod_security(&self, p: &Policy) -> Option<super::pod_security::PssReason> {
        privileged_reason(p).map(super::pod_security::PssReason::Privileged)
    }
    fn selected(&self, p: &Policy) -> Selected {
        match &p.spec.internal_tls {
            InternalTls::Plain(InternalTlsMode::Required) => REQUIRED.selected(),
            InternalTls::Plain(InternalTlsMode::NotRequired) => NOT_REQUIRED.selected(),
            InternalTls::Mesh(m) => MESH_STRICT.with(mesh_name(m.mesh)),
        }
    }
    fn found_only(&self) -> &'static [&'static Setting] {
        FOUND_ONLY
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let m = match &p.spec.internal_tls {
            InternalTls::Plain(InternalTlsMode::Required) => {
                cx.error(
                    DEF.field,
                    "`internalTls: required` cannot be met by the z2jh chart",
                    "the chart hard-codes http:// between hub, proxy and user servers and never mounts JupyterHub's internal certificates into the proxy; \
                     encrypt pod traffic with a service mesh (`internalTls: {mode: mesh, mesh: istio}` or `mesh: linkerd`) or CNI encryption \
                     (Cilium or Calico WireGuard) and set `internalTls: not-required`",
                );
                return;
            }
            InternalTls::Plain(InternalTlsMode::NotRequired) => return,
            InternalTls::Mesh(m) => m,
        };
        let mesh = mesh_name(m.mesh);
        if m.revision.is_some() && m.mesh == Mesh::Linkerd {
            cx.error(
                &format!("{}/revision", DEF.field),
                "`revision` names an Istio revision; Linkerd has none",
                "remove `revision`",
            );
            return;
        }
        let id = &p.spec.user_pods.identity;
        if p.spec.admission.mode == AdmissionMode::Deny && id.mode != IdentityMode::ImageDefault {
            let uid = match m.mesh {
                Mesh::Istio => "`istio-proxy` runs as uid 1337",
                Mesh::Linkerd => "`linkerd-proxy` runs as uid 2102",
            };
            cx.error(
                DEF.field,
                format!(
                    "`admission.mode: deny` would refuse every user pod: the API server checks the pod after the mesh injected its sidecar, {uid}, and the policy's admission check requires every container to run as the user's uid"
                ),
                "set `admission.mode: warn` or `audit` (the sidecar is then reported, not refused), or `userPods.identity.mode: image-default`",
            );
            return;
        }
        let ns = cx.namespace().to_string();
        let hub = p.metadata.name.clone();
        let (component, ports) = entry(p);
        let mut ctx = json!({
            "hub": hub,
            "namespace": ns,
            "mesh": mesh,
            "entry": component,
            "entry_ports": ports.iter().map(|(name, port)| json!({"name": name, "port": port})).collect::<Vec<_>>(),
            "network_policies": network_policies(p, m),
        });
        // Istio's portLevelMtls is a map keyed by port number.
        let port_level: Map<String, Value> = ports
            .iter()
            .map(|(_, port)| (port.to_string(), json!({"mode": "PERMISSIVE"})))
            .collect();
        ctx["port_level_mtls"] = Value::Object(port_level);
        cx.manifest(Group::Network, "mesh.yaml", ctx);

        // Pods that never serve traffic, and the hook Job that must finish,
        // stay out of the mesh: a sidecar keeps a Job's pod running forever.
        let (key, value, path) = match m.mesh {
            Mesh::Istio => (ISTIO_INJECT, "false", "labels"),
            Mesh::Linkerd => (LINKERD_INJECT, "disabled", "annotations"),
        };
        cx.set(&["prePuller", path, key], json!(value));
        cx.set(&["scheduling", "userPlaceholder", path, key], json!(value));
        match m.mesh {
            Mesh::Istio => {
                cx.set(
                    &["hub", "config", "KubeSpawner", "services_enabled"],
                    json!(true),
                );
                cx.note(
                    DEF.field,
                    "KubeSpawner fronts each user pod with a Service (`services_enabled`): Istio encrypts only traffic to addresses it knows \
                     from Services, and STRICT refuses the plaintext a connection to a bare pod IP would be",
                );
            }
            Mesh::Linkerd => cx.note(
                DEF.field,
                "Linkerd sends meshed traffic to the server's proxy port 4143 instead of the application port: manifests/network.yaml \
                 admits 4143 from the sources the chart's NetworkPolicies admit by label, and egress to the control plane on 8080, 8086 \
                 and 8090. Behind 4143 a NetworkPolicy no longer tells ports apart, so the proxy's public port is not opened to every \
                 meshed pod as the chart opens it: a meshed pod that calls the hub's public address inside the cluster needs the label \
                 `hub.jupyter.org/network-access-proxy-http: \"true\"`",
            ),
        }
        let plane = control_plane_namespace(m);
        cx.note(
            DEF.field,
            format!(
                "apply manifests/namespace.yaml before `helm install`: the {mesh} injection {} is what puts a sidecar in every pod; \
                 the hub, proxy and user pods then reach the control plane in namespace `{plane}` ({})",
                if m.mesh == Mesh::Istio { "label" } else { "annotation" },
                match m.mesh {
                    Mesh::Istio => "istiod, port 15012",
                    Mesh::Linkerd => "ports 8080, 8086, 8090",
                }
            ),
        );
        cx.note(
            DEF.field,
            format!(
                "the `{component}` pod takes traffic from load balancers and ingress controllers outside the mesh: its public ports ({}) accept \
                 plaintext (manifests/network.yaml), every other port of every hub pod requires mutual TLS; TLS for users is `https`'s",
                ports
                    .iter()
                    .map(|(_, p)| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        if m.cni
            && crate::controls::pod_security::enforce_level(p)
                == crate::policy::PsaLevel::Restricted
        {
            cx.note(
                "/spec/podSecurity/enforce",
                "Pod Security `restricted` also judges the injected sidecar: it runs as a non-root uid with every capability dropped \
                 and takes the pod-level seccomp profile this policy sets; the meshes document their CNI mode for `baseline`, so if \
                 the API server refuses meshed pods, set `podSecurity.enforce: baseline`",
            );
        }
        if !m.cni {
            cx.warn(
                &format!("{}/cni", DEF.field),
                format!(
                    "without the mesh's CNI plugin every meshed pod gets `{}` with NET_ADMIN and NET_RAW: Pod Security can be no stricter than `privileged`",
                    match m.mesh {
                        Mesh::Istio => "istio-init",
                        Mesh::Linkerd => "linkerd-init",
                    }
                ),
                "install the mesh with its CNI plugin (istio-cni, linkerd-cni) and set `cni: true`",
            );
        }
        if p.spec.cloud_metadata.mode == MetadataMode::Iptables {
            cx.warn(
                "/spec/cloudMetadata/mode",
                "the chart's metadata blocker and the mesh both rewrite the pod's iptables: the blocker's DROP rule (filter table) still \
                 stops the sidecar's own connection to the metadata address, but two privileged init containers now order the pod's start",
                "use `cloudMetadata.mode: network-policy`, which the sidecar cannot bypass and needs no privilege",
            );
        }
        if cx.k8s_minor < 29 {
            cx.note(
                DEF.field,
                "before Kubernetes 1.29 sidecars are ordinary containers: a user server may start before its sidecar is ready, and only \
                 from 1.29 can the mesh run them as native sidecars (started first, stopped last)",
            );
        }
    }
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        if v.extra_config_mentions("internal_ssl") {
            return ReadBack::CannotVerify {
                reason: "hub.extraConfig sets internal_ssl in Python".into(),
            };
        }
        let user = |key: &str| {
            ["extraAnnotations", "extraLabels"]
                .iter()
                .find_map(|k| v.str(&["singleuser", k, key]))
        };
        // Pods opted out of the mesh are plaintext whatever the namespace says.
        let opted_out = |parent: &[&str]| {
            let at = |k: &str| {
                let mut path = parent.to_vec();
                path.push(k);
                v.str(&path).map(str::to_string)
            };
            at(ISTIO_INJECT).as_deref() == Some("false")
                || at(LINKERD_INJECT).as_deref() == Some("disabled")
        };
        if opted_out(&["singleuser", "extraAnnotations"])
            || opted_out(&["singleuser", "extraLabels"])
        {
            return ReadBack::Setting(NOT_REQUIRED.with("user pods opt out of sidecar injection"));
        }
        for component in ["hub", "proxy"] {
            if opted_out(&[component, "annotations"]) {
                return ReadBack::Setting(NOT_REQUIRED.with(format!(
                    "`{component}.annotations` opts the {component} pod out of sidecar injection"
                )));
            }
        }
        let ns = v.manifests.unwrap_or_default().iter().find(|m| {
            m["kind"] == "Namespace"
                && m.pointer("/metadata/labels/app.kubernetes.io~1component")
                    .and_then(Value::as_str)
                    == Some("hub")
        });
        let ns_label = |k: &str| {
            ns.and_then(|n| n.pointer("/metadata/labels"))
                .and_then(|l| l.get(k))
                .and_then(Value::as_str)
        };
        let ns_annotation = |k: &str| {
            ns.and_then(|n| n.pointer("/metadata/annotations"))
                .and_then(|l| l.get(k))
                .and_then(Value::as_str)
        };
        let istio = ns_label("istio-injection") == Some("enabled")
            || ns_label("istio.io/rev").is_some()
            || user(ISTIO_INJECT) == Some("true");
        let linkerd = ns_annotation(LINKERD_INJECT) == Some("enabled")
            || user(LINKERD_INJECT) == Some("enabled");
        if istio {
            let Some(_) = v.manifests else {
                return ReadBack::CannotVerify {
                    reason: "user pods ask for Istio sidecars; whether mutual TLS is required lives in a PeerAuthentication: pass --manifests".into(),
                };
            };
            let pa = namespace_peer_authentication(v).map(|(_, m)| m);
            return ReadBack::Setting(
                match pa
                    .and_then(|m| m.pointer("/spec/mtls/mode"))
                    .and_then(Value::as_str)
                {
                    Some("STRICT") => MESH_STRICT.with("istio"),
                    Some("DISABLE") => NOT_REQUIRED.with("istio, PeerAuthentication DISABLE"),
                    Some(mode) => MESH_PERMISSIVE.with(format!("istio, PeerAuthentication {mode}")),
                    None => MESH_PERMISSIVE
                        .with("istio, no PeerAuthentication: Istio's default is PERMISSIVE"),
                },
            );
        }
        if linkerd {
            let policy = user(LINKERD_POLICY).or_else(|| ns_annotation(LINKERD_POLICY));
            return match policy {
                Some(p) if LINKERD_STRICT.contains(&p) => {
                    ReadBack::Setting(MESH_STRICT.with("linkerd"))
                }
                Some(p) => ReadBack::Setting(MESH_PERMISSIVE.with(format!("linkerd, {p}"))),
                None if v.manifests.is_none() => ReadBack::CannotVerify {
                    reason: "user pods ask for Linkerd proxies; the inbound policy may be set on the namespace: pass --manifests".into(),
                },
                None => ReadBack::Setting(MESH_PERMISSIVE.with("linkerd, cluster default inbound policy")),
            };
        }
        ReadBack::Setting(NOT_REQUIRED.selected())
    }
    fn judge(&self, v: &ValuesView) -> super::Judgement {
        let mut j = super::Judgement::plain(self.read_back(v));
        // The namespace-wide PeerAuthentication decides Istio's mode: cite it.
        if let (ReadBack::Setting(s), Some((i, _))) =
            (&j.read_back, namespace_peer_authentication(v))
            && s.detail.as_deref().is_some_and(|d| d.starts_with("istio"))
        {
            j.by = Some(v.manifest_origin(i, &["spec", "mtls", "mode"]));
        }
        j
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        if !got.is(&MESH_STRICT) {
            p.spec.internal_tls = InternalTls::Plain(InternalTlsMode::NotRequired);
            return Vec::new();
        }
        let mesh = if got.detail.as_deref() == Some("linkerd") {
            Mesh::Linkerd
        } else {
            Mesh::Istio
        };
        // Pods with the mesh's NET_ADMIN init container run only where the
        // namespace admits `privileged`: a stricter level means the CNI plugin.
        let enforce = v
            .manifests
            .unwrap_or_default()
            .iter()
            .find(|m| {
                m["kind"] == "Namespace"
                    && m.pointer("/metadata/labels/app.kubernetes.io~1component")
                        .and_then(Value::as_str)
                        == Some("hub")
            })
            .and_then(|n| n.pointer("/metadata/labels/pod-security.kubernetes.io~1enforce"))
            .and_then(Value::as_str);
        let cni = matches!(enforce, Some("restricted" | "baseline"));
        p.spec.internal_tls = InternalTls::Mesh(MeshTls {
            mode: crate::policy::MeshMode::Mesh,
            mesh,
            cni,
            revision: None,
            control_plane_namespace: None,
        });
        if cni {
            return Vec::new();
        }
        vec!["whether the mesh runs with its CNI plugin is not in the values, and the namespace admits privileged pods; the proposal says `cni: false`".into()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::ChartLine;

    fn read(values: Value, manifests: Option<&[Value]>) -> ReadBack {
        InternalTlsControl.read_back(&ValuesView {
            values: &values,
            defaults: &Value::Null,
            manifests,
            chart: ChartLine::V4,
            more: Default::default(),
        })
    }

    fn namespace(labels: Value, annotations: Value) -> Value {
        let mut l = json!({"app.kubernetes.io/component": "hub"});
        l.as_object_mut()
            .unwrap()
            .extend(labels.as_object().unwrap().clone());
        json!({"kind": "Namespace", "metadata": {"name": "jhub", "labels": l, "annotations": annotations}})
    }

    fn peer(mode: &str) -> Value {
        json!({"kind": "PeerAuthentication", "metadata": {"name": "default"}, "spec": {"mtls": {"mode": mode}}})
    }

    fn setting(r: &ReadBack) -> &'static str {
        match r {
            ReadBack::Setting(s) => s.setting.name,
            ReadBack::CannotVerify { .. } => "cannot-verify",
        }
    }

    #[test]
    fn istio_is_strict_only_with_a_strict_namespace_wide_peer_authentication() {
        let ns = namespace(json!({"istio-injection": "enabled"}), json!({}));
        let strict = [ns.clone(), peer("STRICT")];
        assert_eq!(setting(&read(json!({}), Some(&strict))), "mesh-strict");
        let permissive = [ns.clone(), peer("PERMISSIVE")];
        assert_eq!(
            setting(&read(json!({}), Some(&permissive))),
            "mesh-permissive"
        );
        // Istio's own default is PERMISSIVE.
        assert_eq!(
            setting(&read(json!({}), Some(std::slice::from_ref(&ns)))),
            "mesh-permissive"
        );
        let disabled = [ns.clone(), peer("DISABLE")];
        assert_eq!(setting(&read(json!({}), Some(&disabled))), "not-required");
        // A workload-level STRICT policy does not make the namespace strict.
        let mut scoped = peer("STRICT");
        scoped["spec"]["selector"] = json!({"matchLabels": {"component": "hub"}});
        assert_eq!(
            setting(&read(json!({}), Some(&[ns, scoped]))),
            "mesh-permissive"
        );
    }

    #[test]
    fn a_revision_label_meshes_the_namespace_too() {
        let ns = namespace(json!({"istio.io/rev": "prod"}), json!({}));
        assert_eq!(
            setting(&read(json!({}), Some(&[ns, peer("STRICT")]))),
            "mesh-strict"
        );
    }

    #[test]
    fn linkerd_strictness_is_the_inbound_policy() {
        let ns = |policy: Option<&str>| {
            let mut a = json!({"linkerd.io/inject": "enabled"});
            if let Some(p) = policy {
                a[LINKERD_POLICY] = json!(p);
            }
            namespace(json!({}), a)
        };
        for (policy, want) in [
            (Some("all-authenticated"), "mesh-strict"),
            (Some("cluster-authenticated"), "mesh-strict"),
            (Some("deny"), "mesh-strict"),
            (Some("all-unauthenticated"), "mesh-permissive"),
            (None, "mesh-permissive"),
        ] {
            assert_eq!(
                setting(&read(json!({}), Some(&[ns(policy)]))),
                want,
                "{policy:?}"
            );
        }
    }

    #[test]
    fn user_pods_opted_out_are_plaintext_whatever_the_namespace_says() {
        let ns = namespace(json!({"istio-injection": "enabled"}), json!({}));
        let values = json!({"singleuser": {"extraLabels": {ISTIO_INJECT: "false"}}});
        assert_eq!(
            setting(&read(values, Some(&[ns, peer("STRICT")]))),
            "not-required"
        );
    }

    #[test]
    fn a_hub_or_proxy_opted_out_is_plaintext() {
        let ns = namespace(
            json!({}),
            json!({LINKERD_INJECT: "enabled", LINKERD_POLICY: "all-authenticated"}),
        );
        assert_eq!(
            setting(&read(json!({}), Some(std::slice::from_ref(&ns)))),
            "mesh-strict"
        );
        for component in ["hub", "proxy"] {
            let values = json!({component: {"annotations": {LINKERD_INJECT: "disabled"}}});
            assert_eq!(
                setting(&read(values, Some(std::slice::from_ref(&ns)))),
                "not-required",
                "{component}"
            );
        }
    }

    #[test]
    fn what_values_alone_cannot_show_is_not_verified() {
        let istio = json!({"singleuser": {"extraLabels": {ISTIO_INJECT: "true"}}});
        assert_eq!(setting(&read(istio, None)), "cannot-verify");
        let linkerd = json!({"singleuser": {"extraAnnotations": {LINKERD_INJECT: "enabled"}}});
        assert_eq!(setting(&read(linkerd.clone(), None)), "cannot-verify");
        let mut strict = linkerd;
        strict["singleuser"]["extraAnnotations"][LINKERD_POLICY] = json!("all-authenticated");
        assert_eq!(setting(&read(strict, None)), "mesh-strict");
        assert_eq!(setting(&read(json!({}), None)), "not-required");
    }

    /// What a compiled mesh policy emits reads back as the policy's setting.
    #[test]
    fn compiled_mesh_policies_read_back_strict() {
        use crate::compile::{Options, compile};
        use crate::parse::Input;
        for mesh in ["istio", "linkerd"] {
            let text = format!(
                "apiVersion: z2jh-policy/v1\nkind: HubPolicy\nmetadata: {{name: h, namespace: jhub}}\nextends: restricted\n\
                 spec:\n  https: {{mode: offload}}\n  access: {{users: [a]}}\n  admission: {{mode: warn}}\n  \
                 internalTls: {{mode: mesh, mesh: {mesh}, cni: true}}\n"
            );
            let input = Input::Inline {
                name: "p.yaml".into(),
                text,
                base: ".".into(),
            };
            let compiled =
                compile(&input, &Options::default()).unwrap_or_else(|e| panic!("{mesh}: {e:?}"));
            let rendered = compiled.rendered;
            let manifests = rendered.manifest_objects();
            let got = read(rendered.values.clone(), Some(&manifests));
            assert_eq!(got, ReadBack::Setting(MESH_STRICT.with(mesh)), "{mesh}");
        }
    }
}

//! What a mesh needs beside the chart: the hub namespace's injection labels
//! and annotations, the Pod Security level its init containers force, and
//! the NetworkPolicy rules its sidecars need to reach the control plane and
//! each other.

use super::*;

pub(super) fn control_plane_namespace(m: &MeshTls) -> String {
    m.control_plane_namespace
        .clone()
        .unwrap_or_else(|| match m.mesh {
            Mesh::Istio => "istio-system".into(),
            Mesh::Linkerd => "linkerd".into(),
        })
}

/// Labels and annotations the hub namespace carries for the mesh; the
/// Pod Security control writes them on its one Namespace object.
pub fn namespace_metadata(p: &Policy) -> (Map<String, Value>, Map<String, Value>) {
    let (mut labels, mut annotations) = (Map::new(), Map::new());
    if let Some(m) = p.spec.internal_tls.mesh() {
        match (m.mesh, &m.revision) {
            (Mesh::Istio, Some(rev)) => {
                labels.insert("istio.io/rev".into(), json!(rev));
            }
            (Mesh::Istio, None) => {
                labels.insert("istio-injection".into(), json!("enabled"));
            }
            (Mesh::Linkerd, _) => {
                annotations.insert(LINKERD_INJECT.into(), json!("enabled"));
                annotations.insert(LINKERD_POLICY.into(), json!("all-authenticated"));
            }
        }
    }
    (labels, annotations)
}

/// Why Pod Security cannot be stricter than `privileged` for the mesh.
pub fn privileged_reason(p: &Policy) -> Option<String> {
    let m = p.spec.internal_tls.mesh()?;
    (!m.cni).then(|| {
        format!(
            "`internalTls.mesh: {}` without `cni: true` injects an init container with NET_ADMIN and NET_RAW into every meshed pod",
            mesh_name(m.mesh)
        )
    })
}

/// The pod that takes traffic from outside the mesh (load balancers,
/// ingress controllers), with its public container ports.
pub(super) fn entry(p: &Policy) -> (&'static str, Vec<(&'static str, u16)>) {
    match p.spec.https.mode {
        HttpsMode::Letsencrypt => ("autohttps", vec![("http", 8080), ("https", 8443)]),
        HttpsMode::Secret | HttpsMode::Manual => ("proxy", vec![("http", 8000), ("https", 8443)]),
        _ => ("proxy", vec![("http", 8000)]),
    }
}

/// Components whose chart NetworkPolicy is on: an extra policy selecting a
/// pod without one would cut it off, so only these get mesh rules.
fn netpol_components(p: &Policy) -> Vec<&'static str> {
    let n = &p.spec.network_policy;
    [
        (n.hub, "hub"),
        (n.proxy, "proxy"),
        (n.autohttps, "autohttps"),
        (n.singleuser, "singleuser-server"),
    ]
    .into_iter()
    .filter_map(|(on, c)| on.then_some(c))
    .collect()
}

fn tcp(port: u16) -> Value {
    json!({"protocol": "TCP", "port": port})
}

fn labelled(label: &str) -> Value {
    json!({"podSelector": {"matchLabels": {label: "true"}}})
}

/// The NetworkPolicy rules each component needs besides the chart's.
pub(super) fn network_policies(p: &Policy, m: &MeshTls) -> Vec<Value> {
    let ns = control_plane_namespace(m);
    let control_plane = match m.mesh {
        Mesh::Istio => json!({
            "to": [{
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}},
                "podSelector": {"matchLabels": {"app": "istiod"}},
            }],
            "ports": [tcp(15012)],
        }),
        Mesh::Linkerd => json!({
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}],
            "ports": [tcp(8080), tcp(8086), tcp(8090)],
        }),
    };
    netpol_components(p)
        .into_iter()
        .map(|component| {
            let mut egress = vec![control_plane.clone()];
            let mut spec = Map::new();
            spec.insert(
                "podSelector".into(),
                json!({"matchLabels": {"app": "jupyterhub", "component": component}}),
            );
            let mut types = vec![json!("Egress")];
            if m.mesh == Mesh::Linkerd {
                // The client's proxy sends to port 4143 of the server's: the
                // chart's rules name the application ports only. Sources stay
                // the chart's own (its access labels).
                egress.push(json!({
                    "to": [{"podSelector": {"matchLabels": {"app": "jupyterhub"}}}],
                    "ports": [tcp(4143)],
                }));
                let from: Vec<Value> = match component {
                    "hub" => vec![labelled("hub.jupyter.org/network-access-hub")],
                    "proxy" => vec![
                        labelled("hub.jupyter.org/network-access-proxy-api"),
                        labelled("hub.jupyter.org/network-access-proxy-http"),
                    ],
                    "singleuser-server" => {
                        vec![labelled("hub.jupyter.org/network-access-singleuser")]
                    }
                    _ => Vec::new(),
                };
                if !from.is_empty() {
                    types.insert(0, json!("Ingress"));
                    spec.insert(
                        "ingress".into(),
                        json!([{"from": from, "ports": [tcp(4143)]}]),
                    );
                }
            }
            spec.insert("policyTypes".into(), json!(types));
            spec.insert("egress".into(), json!(egress));
            json!({"component": component, "spec": spec})
        })
        .collect()
}

//! Reads manifest files (YAML streams) and round-trips every object through
//! the typed API object of the Kubernetes release this build was compiled
//! for: a field that release does not know is dropped by the types, so the
//! object comes back different and the file fails. Exit 1 on any failure.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn round<T: DeserializeOwned + Serialize>(v: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(typed).map_err(|e| e.to_string())
}

fn check(doc: &Value) -> Result<(), String> {
    use k8s_openapi::api::admissionregistration::v1::{
        ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
    };
    use k8s_openapi::api::core::v1::{
        LimitRange, Namespace, PersistentVolume, PersistentVolumeClaim, ResourceQuota,
        ServiceAccount,
    };
    use k8s_openapi::api::networking::v1::NetworkPolicy;
    use k8s_openapi::api::node::v1::RuntimeClass;
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    use k8s_openapi::api::storage::v1::StorageClass;
    let back = match doc["kind"].as_str().unwrap_or_default() {
        "ValidatingAdmissionPolicy" => round::<ValidatingAdmissionPolicy>(doc),
        "ValidatingAdmissionPolicyBinding" => round::<ValidatingAdmissionPolicyBinding>(doc),
        "Namespace" => round::<Namespace>(doc),
        "ServiceAccount" => round::<ServiceAccount>(doc),
        "Role" => round::<Role>(doc),
        "RoleBinding" => round::<RoleBinding>(doc),
        "NetworkPolicy" => round::<NetworkPolicy>(doc),
        "StorageClass" => round::<StorageClass>(doc),
        "PersistentVolume" => round::<PersistentVolume>(doc),
        "PersistentVolumeClaim" => round::<PersistentVolumeClaim>(doc),
        "ResourceQuota" => round::<ResourceQuota>(doc),
        "LimitRange" => round::<LimitRange>(doc),
        "RuntimeClass" => round::<RuntimeClass>(doc),
        other => Err(format!("no Kubernetes type mapped for kind {other}")),
    }?;
    if back == *doc {
        Ok(())
    } else {
        Err(format!(
            "changed in a round trip:\n  ours: {doc}\n  back: {back}"
        ))
    }
}

/// Custom resources the policy emits (Istio's and Linkerd's mesh objects,
/// Cilium's network policy): no Kubernetes release defines them, so they are
/// not round-tripped here; `tests/it/golden.rs` checks their shape against the
/// resources' own schemas.
const CUSTOM: &[&str] = &[
    "PeerAuthentication",
    "Server",
    "AuthorizationPolicy",
    "NetworkAuthentication",
    "CiliumNetworkPolicy",
];

fn main() {
    let mut failures = 0;
    let mut objects = 0;
    let mut skipped = 0;
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let docs = z2jh_policy::yaml::parse_stream(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        for (i, doc) in docs.iter().enumerate() {
            if CUSTOM.contains(&doc["kind"].as_str().unwrap_or_default()) {
                skipped += 1;
                continue;
            }
            objects += 1;
            if let Err(e) = check(doc) {
                failures += 1;
                eprintln!("{path} (document {}): {e}", i + 1);
            }
        }
    }
    println!(
        "{objects} objects, {failures} failed; {skipped} custom resources skipped (not Kubernetes API types; their shape is checked in tests/it/golden.rs)"
    );
    std::process::exit(i32::from(failures > 0));
}

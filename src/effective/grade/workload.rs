//! Graders of the notebook's workload: its service-account token, its
//! resource limits, its image's pull policy and pinning.

use serde_json::Value;

use super::{Verdict, origin, unknown};
use crate::controls::api_access::api;
use crate::controls::images::{pin, pull};
use crate::controls::resources;
use crate::effective::Pointer;
use crate::effective::network::Network;
use crate::effective::origin::Origin;
use crate::effective::pod::Pod;
use crate::effective::profiles::FREE_FORM;
use crate::effective::spawner::scalar_text;

/// The service-account token: `none` not mounted, `workload-identity`
/// mounted (detail: the account; `api-access` works out what it may do).
pub fn token(pod: &Pod, _: &Network) -> Verdict {
    if let Some(u) = unknown(pod, "/spec/automountServiceAccountToken")
        .or_else(|| unknown(pod, "/spec/serviceAccountName"))
    {
        return u;
    }
    let automount = pod.json.at("/spec/automountServiceAccountToken");
    let sa = pod
        .json
        .at("/spec/serviceAccountName")
        .map(scalar_text)
        .filter(|s| !s.is_empty());
    if automount == Some(&Value::Bool(false)) {
        return Verdict::found(
            pod,
            &api::NONE,
            None,
            origin(pod, "/spec/automountServiceAccountToken"),
        );
    }
    let by = origin(pod, "/spec/serviceAccountName")
        .filter(|o| !matches!(o, Origin::Default { .. }))
        .or_else(|| origin(pod, "/spec/automountServiceAccountToken"));
    Verdict::found(
        pod,
        &api::WORKLOAD_IDENTITY,
        Some(sa.unwrap_or_else(|| "namespace default service account".into())),
        by,
    )
}

/// Limits on the notebook container: CPU and memory, one of them, or none.
pub fn limits(pod: &Pod, _: &Network) -> Verdict {
    if let Some(u) = unknown(pod, "/spec/containers/0/resources") {
        return u;
    }
    let l = pod.json.at("/spec/containers/0/resources/limits");
    let cpu = l.and_then(|l| l.get("cpu"));
    let mem = l.and_then(|l| l.get("memory"));
    let i = resources::classify(cpu.is_some(), mem.is_some());
    let missing = if cpu.is_none() { "cpu" } else { "memory" };
    let by = origin(
        pod,
        &format!("/spec/containers/0/resources/limits/{missing}"),
    );
    Verdict::found(pod, i, None, by)
}

/// Pull policy as the kubelet applies it: Always (set, or the default for
/// `:latest` and untagged images), IfNotPresent, or unset (the kubelet's
/// default for a tagged image).
pub fn pull_policy(pod: &Pod, _: &Network) -> Verdict {
    if let Some(u) = unknown(pod, "/spec/containers/0/imagePullPolicy") {
        return u;
    }
    let ptr = "/spec/containers/0/imagePullPolicy";
    match pod.json.at(ptr).and_then(Value::as_str) {
        Some("Always") => Verdict::found(pod, &pull::ALWAYS, None, origin(pod, ptr)),
        Some("IfNotPresent") => Verdict::found(pod, &pull::IF_NOT_PRESENT, None, origin(pod, ptr)),
        Some(other) => Verdict::found(
            pod,
            &pull::IF_NOT_PRESENT,
            Some(other.to_string()),
            origin(pod, ptr),
        ),
        None => {
            let image = pod
                .json
                .at("/spec/containers/0/image")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !image.is_empty() && image_is_latest(image) {
                Verdict::found(
                    pod,
                    &pull::ALWAYS,
                    Some("the kubelet's default for a `:latest` or untagged image".into()),
                    origin(pod, "/spec/containers/0/image"),
                )
            } else {
                Verdict::found(pod, &pull::CHART_DEFAULT, None, origin(pod, ptr))
            }
        }
    }
}

/// `name`, `name:latest` (and not a digest): the kubelet pulls Always.
pub fn image_is_latest(image: &str) -> bool {
    if image.contains('@') {
        return false;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => true,
        Some((_, tag)) => tag == "latest",
    }
}

/// The notebook image: by digest, by tag, or the chart's default image or a
/// name the user types in.
pub fn pinning(pod: &Pod, default_image: Option<&str>) -> Verdict {
    if let Some(u) = unknown(pod, "/spec/containers/0/image") {
        return u;
    }
    let ptr = "/spec/containers/0/image";
    if let Some((_, o)) = pod.free_form.iter().find(|(p, _)| p.starts_with(ptr)) {
        return Verdict::found(
            pod,
            &pin::CHART_DEFAULT,
            Some("any image a user types in (free-form choice)".into()),
            Some(o.clone()),
        );
    }
    let image = pod.json.at(ptr).and_then(Value::as_str).unwrap_or("");
    if image.contains(FREE_FORM) {
        return Verdict::found(
            pod,
            &pin::CHART_DEFAULT,
            Some("any image a user types in".into()),
            origin(pod, ptr),
        );
    }
    if image.contains("@sha256:") {
        let name = image.split('@').next().unwrap_or(image);
        let name = name
            .rsplit_once(':')
            .map_or(name, |(n, t)| if t.contains('/') { name } else { n });
        return Verdict::found(pod, &pin::DIGEST, Some(name.to_string()), origin(pod, ptr));
    }
    if default_image == Some(image) || image.is_empty() {
        return Verdict::found(pod, &pin::CHART_DEFAULT, None, origin(pod, ptr));
    }
    Verdict::found(pod, &pin::TAG, Some(image.to_string()), origin(pod, ptr))
}

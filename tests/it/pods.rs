//! The effective user pods built by the engine equal the pods the real
//! chart configuration and KubeSpawner build (tests/fixtures/pods: each
//! case's values and, per chart release, the projected pods recorded by
//! scripts/oracle; `scripts/oracle/check.sh` re-records them live).
//! Compared on the security-relevant projection defined in
//! scripts/oracle/README.md.
#![allow(clippy::unwrap_used)]

use crate::common;

use serde_json::{Map, Value, json};
use z2jh_policy::chart::ChartDir;
use z2jh_policy::effective::{Deployment, Pod};
use z2jh_policy::validate::chart_values::{ValuesFile, merged};

const DIR: &str = "tests/fixtures/pods";

/// (case, release, why): pods the engine does not build as KubeSpawner does.
const KNOWN: &[(&str, &str, &str)] = &[
    (
        "modify-pod-hook",
        "4.4.0",
        "hooks are never run: the engine marks the pod unknown (cannot verify) instead",
    ),
    (
        "modify-pod-hook",
        "3.3.8",
        "hooks are never run: the engine marks the pod unknown (cannot verify) instead",
    ),
    (
        "pre-spawn-hook",
        "4.4.0",
        "hooks are never run: the engine marks the pod unknown (cannot verify) instead",
    ),
    (
        "pre-spawn-hook",
        "3.3.8",
        "hooks are never run: the engine marks the pod unknown (cannot verify) instead",
    ),
];

fn pick(obj: &Value, keys: &[&str]) -> Map<String, Value> {
    keys.iter()
        .filter_map(|k| obj.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect()
}

/// Drops nulls, then empty maps and lists, recursively.
fn prune(v: Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(m) => {
            let out: Map<String, Value> = m
                .into_iter()
                .filter_map(|(k, v)| prune(v).map(|v| (k, v)))
                .collect();
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(a) => {
            let out: Vec<Value> = a.into_iter().filter_map(prune).collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        other => Some(other),
    }
}

fn selected(m: Option<&Value>, exact: &[&str], prefixes: &[&str]) -> Value {
    Value::Object(
        m.and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(k, _)| {
                exact.contains(&k.as_str()) || prefixes.iter().any(|p| k.starts_with(p))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

fn volume(v: &Value) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), v.get("name").cloned().unwrap_or(Value::Null));
    let mut sources: Vec<&String> = v
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, x)| *k != "name" && !x.is_null())
        .map(|(k, _)| k)
        .collect();
    sources.sort();
    let fields: &[&str] = match sources.first().map(|s| s.as_str()) {
        Some("hostPath") => &["path"],
        Some("nfs") => &["server", "path"],
        Some("persistentVolumeClaim") => &["claimName"],
        Some("secret") => &["secretName"],
        _ => &[],
    };
    if sources.len() == 1 {
        out.insert("type".into(), json!(sources[0]));
        out.extend(pick(&v[sources[0].as_str()], fields));
    } else if !sources.is_empty() {
        let joined: Vec<&str> = sources.iter().map(|s| s.as_str()).collect();
        out.insert("type".into(), json!(joined.join("+")));
    }
    Value::Object(out)
}

fn container(c: &Value, kind: &str) -> Value {
    let mut out = Map::new();
    out.insert("kind".into(), json!(kind));
    out.extend(pick(
        c,
        &[
            "name",
            "image",
            "imagePullPolicy",
            "securityContext",
            "resources",
        ],
    ));
    let mounts: Vec<Value> = c
        .get("volumeMounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| Value::Object(pick(m, &["name", "mountPath", "subPath", "readOnly"])))
        .collect();
    out.insert("volumeMounts".into(), Value::Array(mounts));
    let ports: Vec<Value> = c
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("hostPort").cloned())
        .collect();
    out.insert("hostPorts".into(), Value::Array(ports));
    // Environment variables a control reads (the rest are KubeSpawner's own).
    let env: Vec<Value> = c
        .get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| e.get("name").and_then(Value::as_str) == Some("JUPYTERHUB_ALLOW_TOKEN_IN_URL"))
        .cloned()
        .collect();
    out.insert("env".into(), Value::Array(env));
    Value::Object(out)
}

/// The projection of scripts/oracle/project.py.
fn project(pod: &Value) -> Value {
    let spec = &pod["spec"];
    let mut out = pick(
        spec,
        &[
            "serviceAccountName",
            "automountServiceAccountToken",
            "hostNetwork",
            "hostPID",
            "hostIPC",
            "hostUsers",
            "runtimeClassName",
            "securityContext",
        ],
    );
    out.insert(
        "annotations".into(),
        selected(
            pod.pointer("/metadata/annotations"),
            &[
                "kubernetes.io/egress-bandwidth",
                "kubernetes.io/ingress-bandwidth",
            ],
            &[
                "container.apparmor.security.beta.kubernetes.io/",
                "container.seccomp.security.alpha.kubernetes.io/",
                "seccomp.security.alpha.kubernetes.io/",
            ],
        ),
    );
    out.insert(
        "labels".into(),
        selected(
            pod.pointer("/metadata/labels"),
            &["component"],
            &["hub.jupyter.org/network-access-"],
        ),
    );
    let vols: Vec<Value> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(volume)
        .collect();
    out.insert("volumes".into(), Value::Array(vols));
    let mut cs: Vec<Value> = spec
        .get("initContainers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| container(c, "init"))
        .collect();
    cs.extend(
        spec.get("containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| container(c, "main")),
    );
    out.insert("containers".into(), Value::Array(cs));
    prune(Value::Object(out)).unwrap_or(json!({}))
}

use common::same_value as same;

/// The oracle writes the chart's image tag placeholder as it found it.
fn with_release_tags(v: &Value, version: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace("set-by-chartpress", version)),
        Value::Array(a) => Value::Array(a.iter().map(|x| with_release_tags(x, version)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), with_release_tags(x, version)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn engine_pods(case: &str, version: &str) -> Vec<Pod> {
    let chart = ChartDir::release(version).unwrap();
    let text = std::fs::read_to_string(format!("{DIR}/{case}/values.yaml")).unwrap();
    let file = ValuesFile::from_text("values.yaml", text).unwrap();
    let values = merged(&chart.defaults, &[file]);
    Deployment::build(&values, Some(version), &[])
        .pods
        .into_iter()
        .map(|(p, _)| p)
        .collect()
}

#[test]
fn effective_pods_equal_the_pods_kubespawner_builds() {
    let mut cases: Vec<String> = std::fs::read_dir(DIR)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("values.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in &cases {
        for version in ["4.4.0", "3.3.8"] {
            let path = format!("{DIR}/{case}/expected-{version}.json");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let expected: Value = serde_json::from_str(&text).unwrap();
            let want: Vec<Value> = expected["pods"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| with_release_tags(&p["pod"], version))
                .collect();
            // Variants the oracle could not spawn (errors) are left out.
            let pods = engine_pods(case, version);
            // A free-form choice is built with the oracle's sample text.
            let got: Vec<Value> = pods
                .iter()
                .map(|p| {
                    let text = serde_json::to_string(&project(&p.json)).unwrap().replace(
                        z2jh_policy::effective::profiles::FREE_FORM,
                        "example.org/unlisted/image:1.0",
                    );
                    serde_json::from_str(&text).unwrap()
                })
                .collect();
            let spawn_errors = expected["errors"].as_array().map_or(0, Vec::len);
            compared += 1;
            let known = KNOWN.iter().any(|(c, v, _)| c == case && *v == version);
            // The same set of pods (the oracle also lists the default
            // profile as the default server).
            // Variants KubeSpawner failed to spawn (its `errors`) have no
            // pod there; the engine still builds them.
            let ok = want.iter().all(|w| got.iter().any(|g| same(g, w)))
                && (spawn_errors > 0 || got.iter().all(|g| want.iter().any(|w| same(g, w))));
            match (ok, known) {
                (true, true) => failures.push(format!(
                    "{case} {version}: now matches; remove it from KNOWN"
                )),
                (false, false) => failures.push(format!(
                    "{case} {version}:\n  kubespawner: {}\n  engine:      {}",
                    serde_json::to_string(&want).unwrap(),
                    serde_json::to_string(&got).unwrap()
                )),
                _ => {}
            }
        }
    }
    assert!(compared >= 50, "only {compared} oracle records found");
    assert!(
        failures.is_empty(),
        "{}\n{}",
        failures.len(),
        failures.join("\n")
    );
}

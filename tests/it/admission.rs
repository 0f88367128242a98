//! Admission control, proven by evaluation: every CEL expression the
//! compiler emits in `manifests/admission.yaml` is compiled and run with a
//! CEL implementation (cel-rust, with the Kubernetes quantity library in
//! `admission/quantity.rs`) against the pods the hub spawns for every
//! golden case — all must be admitted — and against a corpus of violations,
//! each of which must be refused with the message of the validation it breaks.
#![allow(clippy::unwrap_used)]

use crate::common;
#[path = "admission/quantity.rs"]
mod quantity;

use std::collections::BTreeSet;
use std::sync::Arc;

use cel::{Context, Env, Value as Cel};
use serde::Serialize;
use serde_json::{Value, json};
use z2jh_policy::effective::{Deployment, Manifest};
use z2jh_policy::validate::chart_values::{ValuesFile, merged};

// ------------------------------------------------------------ evaluation

/// JSON as the API server hands it to CEL: integers are `int`, not `uint`.
struct K8sJson<'a>(&'a Value);

impl Serialize for K8sJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => s.serialize_i64(i),
                None => s.serialize_f64(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(x) => s.serialize_str(x),
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for x in a {
                    seq.serialize_element(&K8sJson(x))?;
                }
                seq.end()
            }
            Value::Object(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, &K8sJson(v))?;
                }
                map.end()
            }
        }
    }
}

/// Runs one expression over a pod created in `namespace`: `Ok(admitted)`,
/// or why it could not be compiled or evaluated.
fn eval(expr: &str, pod: &Value, namespace: &str) -> Result<bool, String> {
    let env = Arc::new(Env::stdlib());
    let program = env
        .compile(expr)
        .map_err(|e| format!("does not compile: {e}"))?;
    let mut ctx = Context::with_env(env);
    quantity::register(&mut ctx);
    let object = cel::to_value(K8sJson(pod)).map_err(|e| e.to_string())?;
    let request = cel::to_value(K8sJson(
        &json!({"namespace": namespace, "operation": "CREATE"}),
    ))
    .map_err(|e| e.to_string())?;
    ctx.add_variable_from_value("object", object);
    ctx.add_variable_from_value("request", request);
    match program.execute(&ctx) {
        Ok(Cel::Bool(b)) => Ok(b),
        Ok(other) => Err(format!("evaluates to {other:?}, not a bool")),
        Err(e) => Err(format!("evaluation error: {e:?}")),
    }
}

/// One emitted validation.
#[derive(Debug, Clone)]
struct Check {
    policy: String,
    expression: String,
    message: String,
}

/// The validations of the emitted policy whose name ends with `suffix`.
fn checks(manifests: &[Value], suffix: &str) -> Vec<Check> {
    manifests
        .iter()
        .filter(|m| m["kind"] == "ValidatingAdmissionPolicy")
        .filter(|m| {
            m["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.ends_with(suffix))
        })
        .flat_map(|m| {
            let name = m["metadata"]["name"].as_str().unwrap().to_string();
            m["spec"]["validations"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |v| Check {
                    policy: name.clone(),
                    expression: v["expression"].as_str().unwrap().to_string(),
                    message: v["message"].as_str().unwrap().to_string(),
                })
        })
        .collect()
}

/// The messages of the validations a pod breaks; a validation that cannot
/// be evaluated fails the test (the API server would count it as a
/// violation through `failurePolicy: Fail`, hiding the bug).
fn refused(checks: &[Check], pod: &Value, namespace: &str) -> BTreeSet<String> {
    checks
        .iter()
        .filter(|c| match eval(&c.expression, pod, namespace) {
            Ok(ok) => !ok,
            Err(e) => panic!("{}: `{}` {e}", c.policy, c.message),
        })
        .map(|c| c.message.clone())
        .collect()
}

// ------------------------------------------------------------ pods as the API server sees them

fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// The kubelet-facing form of a quantity the engine holds as a number.
fn quantity_text(n: &serde_json::Number) -> String {
    match n.as_i64() {
        Some(i) => i.to_string(),
        None => {
            let f = n.as_f64().unwrap();
            if f.fract() == 0.0 {
                format!("{}", f as i64)
            } else {
                format!("{}m", (f * 1000.0).round() as i64)
            }
        }
    }
}

/// The image's tag as the API server's defaulting reads it: `latest`
/// when the reference has neither tag nor digest.
fn pulls_always(image: &str) -> bool {
    let (name, digest) = match image.split_once('@') {
        Some((n, _)) => (n, true),
        None => (image, false),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.split_once(':') {
        Some((_, tag)) => tag == "latest",
        None => !digest,
    }
}

/// A built pod as it reaches validating admission: nulls absent,
/// quantities as strings, `imagePullPolicy` defaulted.
fn api_pod(pod: &Value) -> Value {
    let mut p = pod.clone();
    strip_nulls(&mut p);
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(Value::Array(cs)) = p.pointer_mut(&format!("/spec/{list}")) else {
            continue;
        };
        for c in cs {
            for part in ["limits", "requests"] {
                if let Some(Value::Object(m)) = c.pointer_mut(&format!("/resources/{part}")) {
                    for v in m.values_mut() {
                        if let Value::Number(n) = v {
                            *v = json!(quantity_text(n));
                        }
                    }
                }
            }
            if c.get("imagePullPolicy").is_none() {
                let image = c["image"].as_str().unwrap_or_default().to_string();
                c["imagePullPolicy"] = json!(if pulls_always(&image) {
                    "Always"
                } else {
                    "IfNotPresent"
                });
            }
        }
    }
    if p.get("metadata").is_none() {
        p["metadata"] = json!({});
    }
    p
}

/// The user pods the hub spawns for a compiled case, with its emitted manifests.
fn user_pods(c: &z2jh_policy::compile::Compiled, version: &str) -> Vec<(String, Value)> {
    let chart = common::chart(version);
    let file = ValuesFile::from_text(
        "values.yaml",
        z2jh_policy::yaml::to_string(&c.rendered.values),
    )
    .unwrap();
    let values = merged(&chart.defaults, &[file]);
    let manifests: Vec<Manifest> = c
        .rendered
        .manifests
        .iter()
        .enumerate()
        .map(|(index, m)| Manifest {
            file: z2jh_policy::emit::manifest_path(m.group),
            index,
            doc: m.object.clone(),
        })
        .collect();
    Deployment::build(&values, Some(version), &manifests)
        .pods
        .into_iter()
        .map(|(p, _)| (p.label.clone(), api_pod(&p.json)))
        .collect()
}

// ------------------------------------------------------------ the hub's own pods are admitted

#[test]
fn every_pod_the_hub_spawns_for_a_golden_case_is_admitted() {
    let mut failures = Vec::new();
    let mut evaluated = 0;
    for case in common::cases().iter().filter(|c| !c.starts_with("error-")) {
        for v in common::VERSIONS {
            if common::expects_error(case, v) {
                continue;
            }
            let c = common::compile_case(case, v).unwrap_or_else(|d| panic!("{case}: {d:?}"));
            let user = checks(&c.rendered.manifest_objects(), ".user-pods");
            if user.is_empty() {
                continue;
            }
            // What is written (long expressions folded, comments above) reads back as compiled.
            let written = c
                .output
                .files
                .iter()
                .find(|(p, _)| p == "manifests/admission.yaml");
            let written = z2jh_policy::yaml::parse_stream(&written.unwrap().1).unwrap();
            let compiled: Vec<Value> = c
                .rendered
                .manifests
                .iter()
                .filter(|m| m.group == z2jh_policy::plan::Group::Admission)
                .map(|m| m.object.clone())
                .collect();
            if written != compiled {
                failures.push(format!(
                    "{case} ({v}): admission.yaml does not read back as compiled"
                ));
            }
            // The API server refuses a message with a line break.
            for ch in checks(&c.rendered.manifest_objects(), "-pods") {
                if ch.message.contains(['\n', '\r']) || ch.expression.trim().is_empty() {
                    failures.push(format!("{case} ({v}): malformed validation {ch:?}"));
                }
            }
            let ns = c.loaded.policy.metadata.namespace.clone();
            for (label, pod) in user_pods(&c, v) {
                evaluated += user.len();
                for m in refused(&user, &pod, &ns) {
                    failures.push(format!("{case} ({v}), pod {label}: refused: {m}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(evaluated > 500, "only {evaluated} evaluations");
}

/// Every embedded release, not only the golden two: the chart's own pieces
/// (the metadata blocker's image moved from Docker Hub to quay.io in 3.2)
/// are admitted as that release builds them.
#[test]
fn every_release_spawns_admitted_pods() {
    let mut failures = Vec::new();
    for r in z2jh_policy::chart::releases::all() {
        for case in ["admission-deny", "restricted"] {
            let c = common::compile_case(case, &r.version).unwrap();
            let user = checks(&c.rendered.manifest_objects(), ".user-pods");
            let ns = c.loaded.policy.metadata.namespace.clone();
            for (label, pod) in user_pods(&c, &r.version) {
                for m in refused(&user, &pod, &ns) {
                    failures.push(format!("{case} ({}), pod {label}: refused: {m}", r.version));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ------------------------------------------------------------ violations are refused

/// A compiled golden case's user-pod checks and its first spawned pod.
fn case_pod(case: &str) -> (Vec<Check>, Value, String) {
    let c = common::compile_case(case, "4.4.0").unwrap();
    let checks = checks(&c.rendered.manifest_objects(), ".user-pods");
    let (_, pod) = user_pods(&c, "4.4.0").remove(0);
    (checks, pod, c.loaded.policy.metadata.namespace.clone())
}

type Mutation = (&'static str, fn(&mut Value), &'static [&'static str]);

fn sc(pod: &mut Value) -> &mut Value {
    &mut pod["spec"]["containers"][0]["securityContext"]
}

fn debug_container(pod: &mut Value, container: Value) {
    pod["spec"]["ephemeralContainers"] = json!([container]);
}

/// Violations of the `restricted` preset, each with the validations (by
/// message prefix: control and policy field) that must refuse it — no more,
/// no fewer.
const RESTRICTED: &[Mutation] = &[
    (
        "root uid",
        |p| sc(p)["runAsUser"] = json!(0),
        &[
            "user-identity (spec.userPods.identity.uid)",
            "run-as-non-root (spec.userPods.runAsNonRoot)",
        ],
    ),
    (
        "runAsNonRoot false",
        |p| {
            sc(p)["runAsNonRoot"] = json!(false);
        },
        &["run-as-non-root (spec.userPods.runAsNonRoot)"],
    ),
    (
        "runAsNonRoot nowhere",
        |p| {
            sc(p).as_object_mut().unwrap().remove("runAsNonRoot");
            p["spec"]["securityContext"]
                .as_object_mut()
                .unwrap()
                .remove("runAsNonRoot");
        },
        &["run-as-non-root (spec.userPods.runAsNonRoot)"],
    ),
    (
        "another uid",
        |p| sc(p)["runAsUser"] = json!(1001),
        &["user-identity (spec.userPods.identity.uid)"],
    ),
    (
        "privileged",
        |p| sc(p)["privileged"] = json!(true),
        &[
            "privilege-escalation (spec.userPods.allowPrivilegeEscalation): no container may be privileged",
        ],
    ),
    (
        "escalation allowed",
        |p| sc(p)["allowPrivilegeEscalation"] = json!(true),
        &[
            "privilege-escalation (spec.userPods.allowPrivilegeEscalation): every container must set",
        ],
    ),
    (
        "escalation unset",
        |p| {
            sc(p)
                .as_object_mut()
                .unwrap()
                .remove("allowPrivilegeEscalation");
        },
        &[
            "privilege-escalation (spec.userPods.allowPrivilegeEscalation): every container must set",
        ],
    ),
    (
        "extra capability",
        |p| sc(p)["capabilities"]["add"] = json!(["NET_RAW"]),
        &["capabilities (spec.userPods.capabilities): no container may add"],
    ),
    (
        "ALL not dropped",
        |p| sc(p)["capabilities"]["drop"] = json!(["NET_RAW"]),
        &["capabilities (spec.userPods.capabilities): every container must drop ALL"],
    ),
    (
        "token mounted",
        |p| p["spec"]["automountServiceAccountToken"] = json!(true),
        &["api-access (spec.apiAccess.mode)"],
    ),
    (
        "token automount unset",
        |p| {
            p["spec"]
                .as_object_mut()
                .unwrap()
                .remove("automountServiceAccountToken");
        },
        &["api-access (spec.apiAccess.mode)"],
    ),
    (
        "projected token volume",
        |p| {
            p["spec"]["volumes"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "tok", "projected": {"sources": [
            {"serviceAccountToken": {"path": "token"}}]}}));
        },
        &["api-access (spec.apiAccess.mode)"],
    ),
    (
        "missing CPU limit",
        |p| {
            p["spec"]["containers"][0]["resources"]["limits"]
                .as_object_mut()
                .unwrap()
                .remove("cpu");
        },
        &["resources (spec.resources.cpu.limit)"],
    ),
    (
        "CPU limit above the policy",
        |p| p["spec"]["containers"][0]["resources"]["limits"]["cpu"] = json!("2001m"),
        &["resources (spec.resources.cpu.limit)"],
    ),
    (
        "memory limit above the policy",
        |p| p["spec"]["containers"][0]["resources"]["limits"]["memory"] = json!("4097Mi"),
        &["resources (spec.resources.memory.limit)"],
    ),
    (
        "memory limit in decimal units above the policy",
        |p| p["spec"]["containers"][0]["resources"]["limits"]["memory"] = json!("4.3G"),
        &["resources (spec.resources.memory.limit)"],
    ),
    (
        "missing ephemeral-storage limit",
        |p| {
            p["spec"]["containers"][0]["resources"]["limits"]
                .as_object_mut()
                .unwrap()
                .remove("ephemeral-storage");
        },
        &["resources (spec.resources.ephemeralStorage.limit)"],
    ),
    (
        "no resources at all",
        |p| {
            p["spec"]["containers"][0]
                .as_object_mut()
                .unwrap()
                .remove("resources");
        },
        &[
            "resources (spec.resources.cpu.limit)",
            "resources (spec.resources.memory.limit)",
            "resources (spec.resources.ephemeralStorage.limit)",
        ],
    ),
    (
        "hostPath volume",
        |p| {
            p["spec"]["volumes"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "node", "hostPath": {"path": "/"}}));
        },
        &["admission (spec.admission.mode): the pod must not mount a hostPath volume"],
    ),
    (
        "host network",
        |p| p["spec"]["hostNetwork"] = json!(true),
        &["admission (spec.admission.mode): the pod must not use the node's"],
    ),
    (
        "host PID",
        |p| p["spec"]["hostPID"] = json!(true),
        &["admission (spec.admission.mode): the pod must not use the node's"],
    ),
    (
        "missing seccomp",
        |p| {
            p["spec"]["securityContext"]
                .as_object_mut()
                .unwrap()
                .remove("seccompProfile");
        },
        &["seccomp (spec.userPods.seccomp)"],
    ),
    (
        "seccomp unconfined",
        |p| sc(p)["seccompProfile"] = json!({"type": "Unconfined"}),
        &["seccomp (spec.userPods.seccomp)"],
    ),
    (
        "AppArmor unconfined",
        |p| sc(p)["appArmorProfile"] = json!({"type": "Unconfined"}),
        &["apparmor (spec.userPods.appArmor)"],
    ),
    (
        "pull policy Never",
        |p| p["spec"]["containers"][0]["imagePullPolicy"] = json!("Never"),
        &["image-pull-policy (spec.images.pullPolicy)"],
    ),
    (
        "a root init container",
        |p| {
            p["spec"]["initContainers"] = json!([{"name": "setup", "image": "busybox:1.36", "imagePullPolicy": "IfNotPresent",
            "securityContext": {"runAsUser": 0}}]);
        },
        &[
            "user-identity (spec.userPods.identity.uid)",
            "run-as-non-root (spec.userPods.runAsNonRoot)",
            "privilege-escalation (spec.userPods.allowPrivilegeEscalation): every container must set",
            "capabilities (spec.userPods.capabilities): every container must drop ALL",
            "apparmor (spec.userPods.appArmor)",
            "resources (spec.resources.cpu.limit)",
            "resources (spec.resources.memory.limit)",
            "resources (spec.resources.ephemeralStorage.limit)",
        ],
    ),
    (
        "a privileged debug container",
        |p| {
            debug_container(
                p,
                json!({"name": "debugger", "image": "busybox:1.36",
        "imagePullPolicy": "IfNotPresent", "securityContext": {"privileged": true, "runAsUser": 1000,
        "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "appArmorProfile": {"type": "RuntimeDefault"}}}),
            )
        },
        &[
            "privilege-escalation (spec.userPods.allowPrivilegeEscalation): no container may be privileged",
        ],
    ),
    (
        "a debug container adding a capability",
        |p| {
            debug_container(
                p,
                json!({"name": "debugger", "image": "busybox:1.36",
        "imagePullPolicy": "IfNotPresent", "securityContext": {"runAsUser": 1000, "allowPrivilegeEscalation": false,
        "capabilities": {"drop": ["ALL"], "add": ["SYS_PTRACE"]}, "appArmorProfile": {"type": "RuntimeDefault"}}}),
            )
        },
        &["capabilities (spec.userPods.capabilities): no container may add"],
    ),
    (
        "an impostor of the metadata blocker",
        |p| {
            p["spec"]["initContainers"] = json!([{"name": "block-cloud-metadata", "image": "quay.io/jupyterhub/k8s-network-tools:4.4.0",
            "imagePullPolicy": "IfNotPresent",
            "command": ["iptables", "--append", "OUTPUT", "--protocol", "tcp", "--destination", "169.254.169.254",
                "--destination-port", "80", "--jump", "DROP"],
            "securityContext": {"privileged": true, "runAsUser": 0, "capabilities": {"add": ["NET_ADMIN"]}}}]);
        },
        &[
            "user-identity (spec.userPods.identity.uid)",
            "run-as-non-root (spec.userPods.runAsNonRoot)",
            "privilege-escalation (spec.userPods.allowPrivilegeEscalation): every container must set",
            "privilege-escalation (spec.userPods.allowPrivilegeEscalation): no container may be privileged",
            "capabilities (spec.userPods.capabilities): every container must drop ALL",
            "capabilities (spec.userPods.capabilities): no container may add",
            "apparmor (spec.userPods.appArmor)",
            "resources (spec.resources.cpu.limit)",
            "resources (spec.resources.memory.limit)",
            "resources (spec.resources.ephemeralStorage.limit)",
        ],
    ),
];

/// Applies each mutation to `pod` and compares what is refused with what must be.
fn run_corpus(case: &str, corpus: &[Mutation]) -> Vec<String> {
    let (checks, pod, ns) = case_pod(case);
    let mut failures = Vec::new();
    assert!(
        refused(&checks, &pod, &ns).is_empty(),
        "{case}: the unmodified pod is refused"
    );
    for (name, mutate, want) in corpus {
        let mut p = pod.clone();
        mutate(&mut p);
        let got = refused(&checks, &p, &ns);
        let unexpected: Vec<&String> = got
            .iter()
            .filter(|m| !want.iter().any(|w| m.starts_with(w)))
            .collect();
        let missing: Vec<&&str> = want
            .iter()
            .filter(|w| !got.iter().any(|m| m.starts_with(**w)))
            .collect();
        if !unexpected.is_empty() || !missing.is_empty() {
            failures.push(format!(
                "{case}: `{name}`: not refused by {missing:?}; refused also by {unexpected:?}"
            ));
        }
    }
    failures
}

#[test]
fn each_violation_of_restricted_is_refused_by_its_validation() {
    let failures = run_corpus("restricted", RESTRICTED);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Violations of settings `restricted` does not use, each on a case that selects them.
#[test]
fn each_violation_of_other_settings_is_refused_by_its_validation() {
    let cases: &[(&str, &[Mutation])] = &[
        (
            "runtime-sandboxed",
            &[
                (
                    "no runtime class",
                    |p| {
                        p["spec"]
                            .as_object_mut()
                            .unwrap()
                            .remove("runtimeClassName");
                    },
                    &["runtime-class (spec.userPods.runtimeClass.mode)"],
                ),
                (
                    "another runtime class",
                    |p| p["spec"]["runtimeClassName"] = json!("runc"),
                    &["runtime-class (spec.userPods.runtimeClass.mode)"],
                ),
                (
                    "an empty runtime class",
                    |p| p["spec"]["runtimeClassName"] = json!(""),
                    &["runtime-class (spec.userPods.runtimeClass.mode)"],
                ),
            ],
        ),
        (
            "read-only-root",
            &[
                (
                    "a writable root file system",
                    |p| sc(p)["readOnlyRootFilesystem"] = json!(false),
                    &["read-only-root (spec.userPods.readOnlyRootFilesystem)"],
                ),
                (
                    "a debug container that does not say",
                    |p| {
                        let mut c = p["spec"]["containers"][0].clone();
                        c["name"] = json!("debugger");
                        c.as_object_mut().unwrap().remove("resources");
                        c["securityContext"]
                            .as_object_mut()
                            .unwrap()
                            .remove("readOnlyRootFilesystem");
                        debug_container(p, c);
                    },
                    &["read-only-root (spec.userPods.readOnlyRootFilesystem)"],
                ),
            ],
        ),
        (
            "user-namespaces",
            &[
                (
                    "the node's user namespace",
                    |p| p["spec"]["hostUsers"] = json!(true),
                    &["user-namespaces (spec.userPods.hostUsers)"],
                ),
                (
                    "hostUsers dropped (feature gate off)",
                    |p| {
                        p["spec"].as_object_mut().unwrap().remove("hostUsers");
                    },
                    &["user-namespaces (spec.userPods.hostUsers)"],
                ),
            ],
        ),
        (
            "bandwidth-limited",
            &[
                (
                    "no bandwidth annotations",
                    |p| {
                        p["metadata"]["annotations"]
                            .as_object_mut()
                            .unwrap()
                            .retain(|k, _| !k.ends_with("-bandwidth"));
                    },
                    &[
                        "bandwidth (spec.bandwidth.ingress)",
                        "bandwidth (spec.bandwidth.egress)",
                    ],
                ),
                (
                    "ingress above the policy",
                    |p| {
                        p["metadata"]["annotations"]["kubernetes.io/ingress-bandwidth"] =
                            json!("10G")
                    },
                    &["bandwidth (spec.bandwidth.ingress)"],
                ),
                (
                    "egress not a quantity",
                    |p| {
                        p["metadata"]["annotations"]["kubernetes.io/egress-bandwidth"] =
                            json!("fast")
                    },
                    &["bandwidth (spec.bandwidth.egress)"],
                ),
            ],
        ),
        (
            "images-digest-always",
            &[
                (
                    "a tag instead of a digest",
                    |p| {
                        p["spec"]["containers"][0]["image"] =
                            json!("quay.io/jupyter/scipy-notebook:2024-01-01")
                    },
                    &["image-pinning (spec.images.userImage)"],
                ),
                (
                    "pull policy IfNotPresent",
                    |p| p["spec"]["containers"][0]["imagePullPolicy"] = json!("IfNotPresent"),
                    &["image-pull-policy (spec.images.pullPolicy)"],
                ),
            ],
        ),
        (
            "identity-per-user",
            &[(
                "a uid below the per-user base",
                |p| sc(p)["runAsUser"] = json!(1000),
                &["user-identity (spec.userPods.identity.perUserBase)"],
            )],
        ),
        (
            "profiles-localhost",
            &[(
                "another Localhost seccomp profile",
                |p| {
                    p["spec"]["securityContext"]["seccompProfile"] =
                        json!({"type": "Localhost", "localhostProfile": "profiles/other.json"})
                },
                &["seccomp (spec.userPods.seccomp)"],
            )],
        ),
        (
            "api-access-workload-identity-eks",
            &[
                (
                    "another service account with its token",
                    |p| p["spec"]["serviceAccountName"] = json!("default"),
                    &["api-access (spec.apiAccess.mode)"],
                ),
                (
                    "no service account, so the namespace default token",
                    |p| {
                        p["spec"]
                            .as_object_mut()
                            .unwrap()
                            .remove("serviceAccountName");
                    },
                    &["api-access (spec.apiAccess.mode)"],
                ),
                (
                    "the chart's hub account",
                    |p| p["spec"]["serviceAccountName"] = json!("hub"),
                    &["api-access (spec.apiAccess.mode)"],
                ),
                (
                    "another account, token not automounted but projected",
                    |p| {
                        p["spec"]["serviceAccountName"] = json!("other");
                        p["spec"]["automountServiceAccountToken"] = json!(false);
                        p["spec"]["volumes"].as_array_mut().unwrap().push(
                            json!({"name": "tok", "projected": {"sources": [
                                {"serviceAccountToken": {"path": "token", "audience": "sts.amazonaws.com"}}]}}),
                        );
                    },
                    &["api-access (spec.apiAccess.mode)"],
                ),
                // Admitted: no token at all, whichever account.
                (
                    "another account without any token",
                    |p| {
                        p["spec"]["serviceAccountName"] = json!("other");
                        p["spec"]["automountServiceAccountToken"] = json!(false);
                    },
                    &[],
                ),
                // Admitted: the token the EKS webhook projects for the policy's account.
                (
                    "the policy's account with the IRSA token projected",
                    |p| {
                        p["spec"]["volumes"].as_array_mut().unwrap().push(
                            json!({"name": "aws-iam-token", "projected": {"sources": [
                                {"serviceAccountToken": {"path": "token", "audience": "sts.amazonaws.com", "expirationSeconds": 86400}}]}}),
                        );
                    },
                    &[],
                ),
            ],
        ),
        (
            "profiles-registries-digest",
            &[
                (
                    "an image from a registry not listed",
                    |p| {
                        p["spec"]["containers"][0]["image"] =
                            json!("docker.io/rocker/geospatial:4.4.2")
                    },
                    &[
                        "profile-images (spec.profiles.images.registries)",
                        "profile-images (spec.profiles.images.requireDigest)",
                        "image-pinning (spec.images.userImage)",
                    ],
                ),
                (
                    "a registry that only starts with an allowed name",
                    |p| {
                        p["spec"]["containers"][0]["image"] = json!(format!(
                            "quay.io/jupyter-mirror/scipy-notebook@sha256:{}",
                            "ab".repeat(32)
                        ))
                    },
                    &["profile-images (spec.profiles.images.registries)"],
                ),
                (
                    "an allowed registry, pinned",
                    |p| {
                        p["spec"]["containers"][0]["image"] = json!(format!(
                            "registry.example.org/team/r-notebook:1@sha256:{}",
                            "ab".repeat(32)
                        ))
                    },
                    &[],
                ),
                (
                    "a debug container from Docker Hub",
                    |p| {
                        let mut c = p["spec"]["containers"][0].clone();
                        c["name"] = json!("debugger");
                        c["image"] = json!(format!("busybox@sha256:{}", "ab".repeat(32)));
                        c.as_object_mut().unwrap().remove("resources");
                        debug_container(p, c);
                    },
                    &["profile-images (spec.profiles.images.registries)"],
                ),
                (
                    "a CPU limit above the profile ceiling",
                    |p| p["spec"]["containers"][0]["resources"]["limits"]["cpu"] = json!("3"),
                    &["profile-images (spec.profiles.maxCpu)"],
                ),
                // The default limit (2) is a default: a profile may go up to the ceiling.
                (
                    "a CPU limit above the default, at the ceiling",
                    |p| p["spec"]["containers"][0]["resources"]["limits"]["cpu"] = json!("2500m"),
                    &[],
                ),
                (
                    "no CPU limit",
                    |p| {
                        p["spec"]["containers"][0]["resources"]["limits"]
                            .as_object_mut()
                            .unwrap()
                            .remove("cpu");
                    },
                    &["profile-images (spec.profiles.maxCpu)"],
                ),
            ],
        ),
        (
            "profiles-pattern",
            &[
                (
                    "a memory limit above the profile ceiling",
                    |p| p["spec"]["containers"][0]["resources"]["limits"]["memory"] = json!("32Gi"),
                    &["profile-images (spec.profiles.maxMemory)"],
                ),
                (
                    "a memory limit above the default, below the ceiling",
                    |p| p["spec"]["containers"][0]["resources"]["limits"]["memory"] = json!("8Gi"),
                    &[],
                ),
            ],
        ),
        (
            "api-pod-creator",
            &[(
                "another service account",
                |p| p["spec"]["serviceAccountName"] = json!("default"),
                &["api-access (spec.apiAccess.mode)"],
            )],
        ),
        (
            "baseline",
            &[
                (
                    "a changed metadata blocker",
                    |p| {
                        let init = &mut p["spec"]["initContainers"][0];
                        assert_eq!(init["name"], "block-cloud-metadata");
                        init["command"] = json!(["sh", "-c", "iptables -F; sleep infinity"]);
                    },
                    &[
                        "user-identity (spec.userPods.identity.uid)",
                        "privilege-escalation (spec.userPods.allowPrivilegeEscalation)",
                    ],
                ),
                (
                    "the blocker's rule for another address",
                    |p| {
                        p["spec"]["initContainers"][0]["command"][6] = json!("10.0.0.1");
                    },
                    &[
                        "user-identity (spec.userPods.identity.uid)",
                        "privilege-escalation (spec.userPods.allowPrivilegeEscalation)",
                    ],
                ),
                (
                    "host IPC",
                    |p| p["spec"]["hostIPC"] = json!(true),
                    &["admission (spec.admission.mode)"],
                ),
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (case, corpus) in cases {
        failures.extend(run_corpus(case, corpus));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// With `pod-creator`, users' own pods in the workload namespace are held
/// to the user-pod rules, but not to the hub's service account.
#[test]
fn pod_creator_binds_the_workload_namespace_too() {
    let c = common::compile_case("api-pod-creator", "4.4.0").unwrap();
    let objects = c.rendered.manifest_objects();
    let bindings: Vec<&Value> = objects
        .iter()
        .filter(|m| m["kind"] == "ValidatingAdmissionPolicyBinding")
        .collect();
    let pc = c.loaded.policy.spec.api_access.pod_creator.clone().unwrap();
    assert!(bindings.iter().any(|b| b["spec"]["matchResources"]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        == json!(pc.workload_namespace) && b["spec"]["matchResources"].get("objectSelector").is_none()));
    let (checks, mut pod, _) = case_pod("api-pod-creator");
    pod["spec"]["serviceAccountName"] = json!("default");
    assert!(refused(&checks, &pod, &pc.workload_namespace).is_empty());
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    assert_eq!(refused(&checks, &pod, &pc.workload_namespace).len(), 1);
}

/// A profile-scoped exception lets that profile's pods (labelled so by the
/// profile's `extra_labels`, in the hub's namespace) past its control's
/// validations only: other pods, the same label in another namespace, and
/// other controls' validations still refuse.
#[test]
fn a_profile_exception_exempts_only_that_profiles_pods_from_only_its_control() {
    let (checks, mut pod, ns) = case_pod("exception-profile");
    assert!(refused(&checks, &pod, &ns).is_empty());
    let seccomp = "seccomp (spec.userPods.seccomp)";
    sc(&mut pod)["seccompProfile"] = json!({"type": "Unconfined"});
    let got = refused(&checks, &pod, &ns);
    assert!(
        got.iter().all(|m| m.starts_with(seccomp)) && !got.is_empty(),
        "{got:?}"
    );

    pod["metadata"]["labels"]["z2jh-policy/profile"] = json!("gpu");
    assert!(refused(&checks, &pod, &ns).is_empty());
    // Another profile's label, or a user's pod elsewhere with this one: refused.
    let mut other = pod.clone();
    other["metadata"]["labels"]["z2jh-policy/profile"] = json!("cpu");
    assert!(
        refused(&checks, &other, &ns)
            .iter()
            .any(|m| m.starts_with(seccomp))
    );
    assert!(
        refused(&checks, &pod, "workloads")
            .iter()
            .any(|m| m.starts_with(seccomp))
    );
    // The exception is for seccomp alone.
    sc(&mut pod)["privileged"] = json!(true);
    let got = refused(&checks, &pod, &ns);
    assert!(
        !got.is_empty() && got.iter().all(|m| !m.starts_with(seccomp)),
        "{got:?}"
    );
    // The parent's exception (read-only root, profile `legacy`) still applies with its label.
    let (checks, mut pod, ns) = case_pod("exception-profile");
    sc(&mut pod)["readOnlyRootFilesystem"] = json!(false);
    assert!(!refused(&checks, &pod, &ns).is_empty());
    pod["metadata"]["labels"]["z2jh-policy/profile"] = json!("legacy");
    assert!(refused(&checks, &pod, &ns).is_empty());
}

/// A hub-wide exception leaves its control's validations out; the others stay.
#[test]
fn a_hub_wide_exception_leaves_its_validations_out() {
    let (checks, mut pod, ns) = case_pod("exception-hub-wide");
    assert!(
        checks
            .iter()
            .all(|c| !c.message.starts_with("privilege-escalation"))
    );
    let (restricted, ..) = case_pod("restricted");
    assert!(
        restricted
            .iter()
            .any(|c| c.message.starts_with("privilege-escalation"))
    );
    sc(&mut pod)["allowPrivilegeEscalation"] = json!(true);
    assert!(refused(&checks, &pod, &ns).is_empty());
    sc(&mut pod)["runAsUser"] = json!(0);
    assert!(!refused(&checks, &pod, &ns).is_empty());
}

#[test]
fn the_quantity_library_compares_as_kubernetes_does() {
    let q = |s: &str| quantity::parse(s).unwrap_or_else(|| panic!("{s}"));
    assert_eq!(q("500m"), q("0.5"));
    assert_eq!(q("1k"), q("1e3"));
    assert_eq!(q("1Ki"), q("1024"));
    assert!(q("1Gi") > q("1G"));
    assert!(q("4.3G") > q("4Gi"));
    assert!(q("4Gi") == q("4096Mi"));
    assert_eq!(q("1n"), 1);
    assert_eq!(q("-2"), -2_000_000_000);
    for bad in ["", "Gi", "1.2.3", "1x", "1 Gi", "--1", "1e"] {
        assert!(quantity::parse(bad).is_none(), "{bad}");
    }
    let eval_q = |e: &str| eval(e, &json!({}), "ns").unwrap();
    assert!(eval_q("quantity(\"2001m\").isGreaterThan(quantity(\"2\"))"));
    assert!(!eval_q(
        "quantity(\"2\").isGreaterThan(quantity(\"2000m\"))"
    ));
    assert!(eval_q("quantity(\"1Mi\").compareTo(quantity(\"1M\")) == 1"));
    assert!(eval_q("!isQuantity(\"fast\") && isQuantity(\"50M\")"));
    assert!(
        eval(
            "quantity(\"fast\").isLessThan(quantity(\"1\"))",
            &json!({}),
            "ns"
        )
        .is_err()
    );
}

// ------------------------------------------------------------ policy strings stay data

const HOSTILE: &[&str] = &[
    "\" || true || \"",
    "' || true || '",
    "x\\\" || true || \\\"",
    "a\nb\r\t\u{0}",
    "\u{2028}}: {kind: Secret} #",
    "{{ 7*7 }}",
    "🦀 ünïcode",
    "\\u0022 || true",
];

#[test]
fn cel_literals_evaluate_to_exactly_the_string() {
    for s in HOSTILE {
        let lit = z2jh_policy::admission::cel::string(s);
        let got = eval(&format!("{lit} == object.s"), &json!({"s": s}), "ns");
        assert_eq!(got, Ok(true), "{s:?} as {lit}");
        let always = eval(&format!("{lit} == \"\""), &json!({}), "ns");
        assert_eq!(always, Ok(false), "{s:?} as {lit}");
    }
}

/// Policy strings that reach CEL (profile names, service account and
/// namespace names) are validated on input; even unvalidated, a hostile
/// one neither adds CEL nor YAML: the expression still tells the named
/// profile from another, and the objects keep their shape.
#[test]
fn hostile_policy_strings_cannot_inject_cel_or_yaml() {
    use z2jh_policy::parse::{Input, load};
    use z2jh_policy::policy::{ApiAccessMode, PodCreator, Profile, WorkloadIdentity};
    let (checks0, pod, ns) = case_pod("restricted");
    for s in HOSTILE {
        let mut loaded = load(&Input::Preset("restricted".into())).unwrap();
        let p = &mut loaded.policy;
        p.spec.user_pods.seccomp = Profile::Localhost((*s).to_string());
        p.spec.api_access.mode = ApiAccessMode::PodCreator;
        p.spec.api_access.pod_creator = Some(PodCreator {
            service_account: (*s).to_string(),
            ..serde_json::from_value(json!({"serviceAccount": "x", "workloadNamespace": "w",
                "apiServer": {"cidrs": ["10.0.0.1/32"], "ports": [443]}}))
            .unwrap()
        });
        let plan = z2jh_policy::lower::lower(&loaded);
        let rendered =
            z2jh_policy::render::render(&plan).unwrap_or_else(|e| panic!("{s:?}: {e:?}"));
        let objects = rendered.manifest_objects();
        let kinds: Vec<&str> = objects
            .iter()
            .filter_map(|m| m["kind"].as_str())
            .filter(|k| k.starts_with("ValidatingAdmission"))
            .collect();
        // user pods: a policy and two bindings; chart pods: a policy and its binding.
        assert_eq!(kinds.len(), 5, "{s:?}: {kinds:?}");
        let checks = checks(&objects, ".user-pods");
        assert_eq!(checks.len(), checks0.len(), "{s:?}");
        let seccomp: Vec<Check> = checks
            .iter()
            .filter(|c| c.message.starts_with("seccomp"))
            .cloned()
            .collect();
        assert!(
            seccomp[0].message.contains(s),
            "{s:?}: {}",
            seccomp[0].message
        );
        let with = |profile: &str| {
            let mut p = pod.clone();
            p["spec"]["securityContext"]["seccompProfile"] =
                json!({"type": "Localhost", "localhostProfile": profile});
            refused(&seccomp, &p, &ns).is_empty()
        };
        assert!(with(s), "{s:?}: the named profile is refused");
        assert!(!with("other"), "{s:?}: another profile is admitted");
        let token: Vec<Check> = checks
            .iter()
            .filter(|c| c.message.starts_with("api-access"))
            .cloned()
            .collect();
        let mut p = pod.clone();
        p["spec"]["automountServiceAccountToken"] = json!(true);
        p["spec"]["serviceAccountName"] = json!(s);
        assert!(
            refused(&token, &p, &ns).is_empty(),
            "{s:?}: its own account is refused"
        );
        p["spec"]["serviceAccountName"] = json!("default");
        assert!(
            !refused(&token, &p, &ns).is_empty(),
            "{s:?}: another account is admitted"
        );
        // The same for the account of `workload-identity`.
        let mut loaded = load(&Input::Preset("restricted".into())).unwrap();
        let p = &mut loaded.policy;
        p.spec.api_access.mode = ApiAccessMode::WorkloadIdentity;
        p.spec.api_access.workload_identity = Some(WorkloadIdentity {
            service_account: (*s).to_string(),
            provider: None,
            identity: None,
        });
        let plan = z2jh_policy::lower::lower(&loaded);
        let rendered =
            z2jh_policy::render::render(&plan).unwrap_or_else(|e| panic!("{s:?}: {e:?}"));
        let token: Vec<Check> = self::checks(&rendered.manifest_objects(), ".user-pods")
            .into_iter()
            .filter(|c| c.message.starts_with("api-access"))
            .collect();
        assert_eq!(token.len(), 1, "{s:?}");
        let mut p = pod.clone();
        p["spec"]["automountServiceAccountToken"] = json!(true);
        p["spec"]["serviceAccountName"] = json!(s);
        assert!(
            refused(&token, &p, &ns).is_empty(),
            "{s:?}: its own account is refused"
        );
        p["spec"]["serviceAccountName"] = json!("default");
        assert!(
            !refused(&token, &p, &ns).is_empty(),
            "{s:?}: another account is admitted"
        );
    }
}

// ------------------------------------------------------------ the chart's own pods

/// Every container security context the chart takes for its own pods, as
/// the compiled values (over the chart defaults) set it, passes the
/// chart-pod policy on both golden releases; the violations it exists for
/// are refused.
#[test]
fn chart_pod_contexts_of_restricted_are_admitted_and_violations_refused() {
    const CONTEXTS: &[&str] = &[
        "/hub/containerSecurityContext",
        "/proxy/chp/containerSecurityContext",
        "/proxy/traefik/containerSecurityContext",
        "/proxy/secretSync/containerSecurityContext",
        "/scheduling/userScheduler/containerSecurityContext",
        "/scheduling/userPlaceholder/containerSecurityContext",
        "/prePuller/containerSecurityContext",
        "/prePuller/hook/containerSecurityContext",
        "/prePuller/pause/containerSecurityContext",
    ];
    for v in common::VERSIONS {
        let c = common::compile_case("restricted", v).unwrap();
        let chart_checks = checks(&c.rendered.manifest_objects(), ".chart-pods");
        assert_eq!(chart_checks.len(), 7, "{v}");
        let chart = common::chart(v);
        let file = ValuesFile::from_text(
            "values.yaml",
            z2jh_policy::yaml::to_string(&c.rendered.values),
        )
        .unwrap();
        let values = merged(&chart.defaults, &[file]);
        for ptr in CONTEXTS {
            let ctx = values
                .pointer(ptr)
                .cloned()
                .unwrap_or_else(|| panic!("{v}: {ptr}"));
            let mut pod = json!({"metadata": {"labels": {"component": "hub"}}, "spec": {
                "securityContext": values.pointer("/hub/podSecurityContext").cloned().filter(|_| ptr.starts_with("/hub")).unwrap_or(json!({})),
                "containers": [{"name": "c", "image": "x:1", "securityContext": ctx}]}});
            strip_nulls(&mut pod);
            let got = refused(&chart_checks, &pod, "jhub");
            assert!(got.is_empty(), "{v}: {ptr}: {got:?}");
            let mut root = pod.clone();
            root["spec"]["containers"][0]["securityContext"]["runAsUser"] = json!(0);
            assert!(
                refused(&chart_checks, &root, "jhub")
                    .iter()
                    .all(|m| m.contains("uid 0")),
                "{v}: {ptr}"
            );
            assert_eq!(refused(&chart_checks, &root, "jhub").len(), 1, "{v}: {ptr}");
            let mut host = pod.clone();
            host["spec"]["hostNetwork"] = json!(true);
            host["spec"]["volumes"] = json!([{"name": "h", "hostPath": {"path": "/var/run"}}]);
            assert_eq!(refused(&chart_checks, &host, "jhub").len(), 2, "{v}: {ptr}");
            let mut writable = pod.clone();
            writable["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] =
                json!(false);
            let got = refused(&chart_checks, &writable, "jhub");
            assert!(
                got.len() == 1 && got.iter().all(|m| m.contains("readOnlyRootFilesystem")),
                "{v}: {ptr}: {got:?}"
            );
            let mut open = pod.clone();
            open["spec"]["initContainers"] = json!([{"name": "i", "image": "x:1"}]);
            let got = refused(&chart_checks, &open, "jhub");
            assert!(
                got.iter().any(|m| m.contains("allowPrivilegeEscalation"))
                    && got.iter().any(|m| m.contains("drop ALL")),
                "{v}: {ptr}: {got:?}"
            );
        }
    }
    // `chart-default` hardening asks nothing of the chart's pods (3.x's own defaults would fail).
    let c = common::compile_case("baseline", "3.3.8").unwrap();
    assert!(checks(&c.rendered.manifest_objects(), ".chart-pods").is_empty());
}

// ------------------------------------------------------------ check reads the manifest back

/// `check --manifests` reads the admission objects back: the compiled ones
/// hold; a binding loosened to Warn, and a policy missing one validation,
/// are findings of the `admission` control.
#[test]
fn check_reads_an_admission_manifest_back() {
    const DIR: &str = "golden/check/override";
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(format!("{DIR}/manifests.yaml")).unwrap();
    let docs = z2jh_policy::yaml::parse_stream(&text).unwrap();
    let write = |name: &str, docs: &[Value]| {
        let path = tmp.path().join(name);
        let body: Vec<String> = docs.iter().map(z2jh_policy::yaml::to_string).collect();
        std::fs::write(&path, body.join("---\n")).unwrap();
        path.display().to_string()
    };
    let check = |manifests: &str| {
        let o = common::binary::command()
            .args([
                "check",
                &format!("{DIR}/policy.yaml"),
                "--values",
                &format!("{DIR}/security.yaml"),
                &format!("{DIR}/secrets.yaml"),
                "--chart-version",
                "4.4.0",
                "--manifests",
                manifests,
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&o.stdout).unwrap();
        let admission = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["control"] == "admission")
            .cloned()
            .unwrap_or(Value::Null);
        (o.status.code(), admission)
    };
    let (code, holds) = check(&write("as-compiled.yaml", &docs));
    assert_eq!((code, &holds), (Some(0), &Value::Null));

    let mut warn = docs.clone();
    for d in warn
        .iter_mut()
        .filter(|d| d["kind"] == "ValidatingAdmissionPolicyBinding")
    {
        d["spec"]["validationActions"] = json!(["Warn"]);
    }
    let (code, loosened) = check(&write("warn.yaml", &warn));
    assert_eq!(code, Some(1), "{loosened}");
    assert_eq!(loosened["found"]["name"], "warn", "{loosened}");

    let mut fewer = docs.clone();
    let vap = fewer
        .iter_mut()
        .find(|d| d["kind"] == "ValidatingAdmissionPolicy")
        .unwrap();
    let removed = vap["spec"]["validations"].as_array_mut().unwrap().remove(1);
    let (code, thinned) = check(&write("fewer.yaml", &fewer));
    assert_eq!(code, Some(1), "{thinned}");
    assert!(
        thinned
            .to_string()
            .contains(removed["message"].as_str().unwrap()),
        "{thinned}"
    );

    let none: Vec<Value> = docs
        .iter()
        .filter(|d| !d["kind"].as_str().unwrap().starts_with("Validating"))
        .cloned()
        .collect();
    let (code, off) = check(&write("none.yaml", &none));
    assert_eq!(code, Some(1), "{off}");
    assert_eq!(off["found"]["name"], "off", "{off}");
}

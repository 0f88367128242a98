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

mod chart_pods;
mod exceptions;
mod other_settings;
mod strings;
mod violations;

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

// ------------------------------------------------------------ violations are refused (the corpus runner)

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

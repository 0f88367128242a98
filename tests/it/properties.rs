//! Property tests: random policies — valid ones with places changed to
//! random values generated from the policy schema itself, so a new field is
//! generated as soon as it exists. Whatever compiles
//! must yield files that parse back as YAML, values that pass the chart's
//! `values.schema.json` (4.4.0 and 3.3.8), and the same bytes every time.
//!
//! `PROPTEST_CASES=N` changes the number of policies (default 160).
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value};
use z2jh_policy::chart::ChartDir;
use z2jh_policy::compile::{Options, compile};
use z2jh_policy::emit;
use z2jh_policy::parse::Input;
use z2jh_policy::policy::schema;
use z2jh_policy::validate::chart_values::{ValuesFile, validate_against_chart};
use z2jh_policy::validate::formats::FORMATS;
use z2jh_policy::yaml;

/// Valid values for each custom format (a few each, to vary the output).
fn samples(format: &str) -> &'static [&'static str] {
    match format {
        "chart-version" => &["4.4.0", "3.3.8", "4.3.1", "3.2.0"],
        "kubernetes-version" => &["1.30", "1.28", "1.33"],
        "k8s-name" => &["hub", "jhub", "team-a", "x1"],
        "k8s-subdomain" => &["hub-tls", "sc.example.com", "gp3"],
        "psa-version" => &["auto", "latest", "v1.30"],
        "ipv4" => &["169.254.169.254", "100.100.100.200"],
        "cidr" => &[
            "10.0.0.0/8",
            "10.0.0.1/32",
            "192.168.0.0/16",
            "0.0.0.0/0",
            "2001:db8::/32",
            "::/0",
        ],
        "profile-name" => &["profiles/jupyter.json", "jupyter-notebook"],
        "quantity" => &["10Gi", "50M", "1", "500Mi"],
        "binary-quantity" => &["512Mi", "1Gi", "4Gi", "10Gi"],
        "cpu" => &["500m", "2", "0.25"],
        "provisioner" => &[
            "ebs.csi.aws.com",
            "cluster.local/nfs-subdir-external-provisioner",
        ],
        "host" => &["nfs.example.org", "10.1.2.3"],
        "hostname" => &["hub.example.org", "jupyter.example.com"],
        "fqdn-name" => &["pypi.org", "files.pythonhosted.org"],
        "fqdn-pattern" => &["*.githubusercontent.com", "*.anaconda.org"],
        "abs-path" => &["/exports/home", "/"],
        "rel-path" => &["tls.crt", "tls.key", "certs/tls.crt"],
        "email" => &["admin@example.org"],
        "https-url" => &["https://acme-staging-v02.api.letsencrypt.org/directory"],
        "image-name" => &["quay.io/jupyter/scipy-notebook", "jupyter/base-notebook"],
        "image-tag" => &["2025-01-06", "latest", "v1.2.3"],
        "image-digest" => {
            &["sha256:4a2f0b4a6c2f6e8d7a1b3c5d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f"]
        }
        "parameter-key" => &["type", "encrypted", "csi.storage.k8s.io/fstype"],
        "qualified-name" => &[
            "cert-manager.io/cluster-issuer",
            "kubernetes.io/ingress.class",
            "owner",
        ],
        "label-value" => &["gvisor", "kata-qemu", "v1.2_3"],
        "cloud-identity" => &[
            "hub-users@my-project.iam.gserviceaccount.com",
            "arn:aws:iam::123456789012:role/hub-users",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        ],
        "sub-path" => &["{username}", "home/{username}", "users/{userid}"],
        "hub-name" => &["alice", "physics", "carol@example.org"],
        "frame-ancestor" => &[
            "self",
            "https://lms.example.org",
            "https://lms.example.org:8443",
        ],
        "image-prefix" => &["quay.io/jupyterhub", "registry.example.org/", "ghcr.io"],
        "anchored-regex" => &[
            r"^quay\.io/jupyterhub/[a-z-]+:[0-9.-]+$",
            r"^(a|b)$",
            r"\A[a-z]+\z",
        ],
        // Before and after the day the properties are compiled on.
        "calendar-date" => &["2026-11-30", "2026-12-01", "2028-02-29"],
        "one-line-text" => &[
            "research-computing",
            "the GPU profile's profiler needs perf_event_open",
        ],
        other => panic!("add samples for format `{other}` to tests/it/properties.rs"),
    }
}

fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    loop {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            node = root
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("dangling $ref {r}"));
        } else if let Some([one]) = node
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            node = one;
        } else {
            return node;
        }
    }
}

/// A strategy producing instances of the schema node.
fn instances(root: &'static Value, node: &'static Value) -> BoxedStrategy<Value> {
    let node = resolve(root, node);
    if let Some(alts) = node
        .get("oneOf")
        .or_else(|| node.get("anyOf"))
        .and_then(Value::as_array)
    {
        return proptest::strategy::Union::new(alts.iter().map(|a| instances(root, a))).boxed();
    }
    if let Some(opts) = node.get("enum").and_then(Value::as_array) {
        return proptest::sample::select(opts.clone()).boxed();
    }
    if let Some(c) = node.get("const") {
        return Just(c.clone()).boxed();
    }
    match node.get("type") {
        Some(Value::Array(types)) => proptest::strategy::Union::new(
            types
                .iter()
                .map(|t| typed(root, node, t.as_str().unwrap_or("null"))),
        )
        .boxed(),
        Some(Value::String(t)) => typed(root, node, t),
        _ => panic!("schema node without a type: {node}"),
    }
}

fn typed(root: &'static Value, node: &'static Value, t: &str) -> BoxedStrategy<Value> {
    let num = |k: &str| node.get(k).and_then(Value::as_f64);
    match t {
        "null" => Just(Value::Null).boxed(),
        "boolean" => any::<bool>().prop_map(Value::Bool).boxed(),
        "integer" => {
            let max_for_format = match node.get("format").and_then(Value::as_str) {
                Some("uint16") => u16::MAX as f64,
                _ => u32::MAX as f64,
            };
            let (lo, hi) = (
                num("minimum").unwrap_or(0.0) as u64,
                num("maximum").unwrap_or(max_for_format) as u64,
            );
            let picks: Vec<u64> = [lo, hi, 0, 1, 100, 443, 1000, 8080, 65535, 200_000]
                .into_iter()
                .filter(|v| (lo..=hi).contains(v))
                .collect();
            prop_oneof![3 => proptest::sample::select(picks), 1 => lo..=hi]
                .prop_map(Value::from)
                .boxed()
        }
        "number" => {
            let lo = num("minimum").unwrap_or(0.0);
            let picks: Vec<f64> = [0.001, 0.1, 0.5, 1.0, 2.0, 16.0]
                .into_iter()
                .filter(|v| *v >= lo)
                .collect();
            proptest::sample::select(picks)
                .prop_map(Value::from)
                .boxed()
        }
        "string" => match node.get("format").and_then(Value::as_str) {
            Some(f) => proptest::sample::select(samples(f))
                .prop_map(Value::from)
                .boxed(),
            None => "[ -~]{0,12}|\\PC{0,8}".prop_map(Value::from).boxed(),
        },
        "array" => {
            let items = instances(root, &node["items"]);
            let min = num("minItems").unwrap_or(0.0) as usize;
            prop::collection::vec(items, min..=min + 2)
                .prop_map(Value::Array)
                .boxed()
        }
        "object" => object(root, node),
        other => panic!("unknown schema type {other}"),
    }
}

fn object(root: &'static Value, node: &'static Value) -> BoxedStrategy<Value> {
    let required: Vec<&str> = node
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for (k, sub) in node
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let key = k.clone();
        let s = instances(root, sub);
        fields.push(if required.contains(&k.as_str()) {
            s.prop_map(move |v| Some((key.clone(), v))).boxed()
        } else {
            prop::option::of(s.prop_map(move |v| (key.clone(), v))).boxed()
        });
    }
    let extra = match node.get("additionalProperties").filter(|a| a.is_object()) {
        Some(ap) => {
            let keys = node
                .get("propertyNames")
                .and_then(|p| p.get("format"))
                .and_then(Value::as_str)
                .map_or(&["key"][..], samples);
            prop::collection::btree_map(
                proptest::sample::select(keys).prop_map(String::from),
                instances(root, ap),
                0..3,
            )
            .boxed()
        }
        None => Just(Default::default()).boxed(),
    };
    (fields, extra)
        .prop_map(|(fields, extra)| {
            let mut m: Map<String, Value> = fields.into_iter().flatten().collect();
            m.extend(extra);
            Value::Object(m)
        })
        .boxed()
}

/// Every place in a policy the schema describes: a JSON pointer (list
/// items as `/0`) and the schema node of the value there.
fn places(root: &'static Value) -> Vec<(String, &'static Value)> {
    fn walk(
        root: &'static Value,
        node: &'static Value,
        ptr: String,
        out: &mut Vec<(String, &'static Value)>,
        depth: usize,
    ) {
        let node = resolve(root, node);
        if depth > 0 && !out.iter().any(|(p, _)| *p == ptr) {
            out.push((ptr.clone(), node));
        }
        for alt in node
            .get("oneOf")
            .or_else(|| node.get("anyOf"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            walk(root, alt, ptr.clone(), out, depth);
        }
        for (k, sub) in node
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            walk(root, sub, format!("{ptr}/{k}"), out, depth + 1);
        }
        if let Some(items) = node.get("items") {
            walk(root, items, format!("{ptr}/0"), out, depth + 1);
        }
    }
    let mut out = Vec::new();
    walk(root, root, String::new(), &mut out, 0);
    out
}

/// Sets the value at `ptr`, creating missing mappings (and a one-item list
/// for a missing `/0`). False when a scalar is in the way.
fn set(doc: &mut Value, ptr: &str, v: Value) -> bool {
    let segs: Vec<&str> = ptr.split('/').skip(1).collect();
    let mut node = doc;
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        if node.is_null() {
            *node = if *seg == "0" {
                Value::Array(vec![Value::Null])
            } else {
                Value::Object(Map::new())
            };
        }
        node = match node {
            Value::Object(m) => m.entry(seg.to_string()).or_insert(Value::Null),
            Value::Array(a) if *seg == "0" => {
                if a.is_empty() {
                    a.push(Value::Null);
                }
                &mut a[0]
            }
            _ => return false,
        };
        if last {
            *node = v;
            return true;
        }
    }
    false
}

/// Complete policies that compile: every golden case that is not an error case.
fn bases(dir: &std::path::Path) -> Vec<Value> {
    let mut out = Vec::new();
    for case in common::cases()
        .into_iter()
        .filter(|c| !c.starts_with("error-"))
    {
        let c = common::compile_case(&case, "4.4.0")
            .unwrap_or_else(|e| panic!("golden case {case}: {e:?}"));
        let mut v = serde_json::to_value(&c.loaded.policy).unwrap();
        // Manual TLS files are read beside the policy, in the test's directory.
        if v.pointer("/spec/https/manual").is_some() {
            set(
                &mut v,
                "/spec/https/manual",
                serde_json::json!({"certFile": "tls.crt", "keyFile": "tls.key"}),
            );
        }
        out.push(v);
    }
    assert!(out.len() >= 10, "golden cases found: {}", out.len());
    let _ = dir;
    out
}

fn chart(version: &str) -> &'static ChartDir {
    static V4: OnceLock<ChartDir> = OnceLock::new();
    static V3: OnceLock<ChartDir> = OnceLock::new();
    let cell = if version == "4.4.0" { &V4 } else { &V3 };
    cell.get_or_init(|| common::chart(version))
}

#[test]
fn every_format_has_samples() {
    for (name, check) in FORMATS {
        for s in samples(name) {
            assert_eq!(check(s), Ok(()), "sample `{s}` for `{name}`");
        }
    }
}

#[test]
fn whatever_compiles_parses_back_and_passes_the_chart_schema() {
    let root = schema::complete();
    let dir = tempfile::tempdir().unwrap();
    // A valid policy with one to three places set to random values of
    // their schema: most stay valid, and every place gets its turn.
    let bases = bases(dir.path());
    let edits = proptest::sample::select(places(root)).prop_flat_map(move |(ptr, node)| {
        instances(root, node).prop_map(move |v| (ptr.clone(), v))
    });
    let policies = (
        proptest::sample::select(bases),
        prop::collection::vec(edits, 1..=3),
    )
        .prop_map(|(mut p, edits)| {
            for (ptr, v) in edits {
                set(&mut p, &ptr, v);
            }
            // Every setting is explicit; the chain adds only the default parent.
            if let Some(m) = p.as_object_mut() {
                m.remove("extends");
            }
            p
        });
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(160);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let compiled = AtomicUsize::new(0);
    for f in ["tls.crt", "tls.key"] {
        std::fs::create_dir_all(dir.path().join("certs")).unwrap();
        let pem = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("golden/https-manual")
                .join(f),
        )
        .unwrap();
        std::fs::write(dir.path().join(f), &pem).unwrap();
        std::fs::write(dir.path().join("certs").join(f), &pem).unwrap();
    }
    let name = dir.path().join("policy.yaml").display().to_string();
    let result = runner.run(&policies, |policy| {
        let text = yaml::to_string(&policy);
        let input = Input::Inline {
            name: name.clone(),
            text: text.clone(),
            base: dir.path().to_path_buf(),
        };
        for version in ["4.4.0", "3.3.8"] {
            let opts = Options {
                chart_version: Some(version.into()),
                today: Some(common::golden_today()),
                ..Default::default()
            };
            let Ok(c) = compile(&input, &opts) else {
                continue;
            };
            compiled.fetch_add(1, Ordering::Relaxed);
            let again = compile(&input, &opts)
                .map_err(|e| TestCaseError::fail(format!("second compile failed: {e:?}")))?;
            prop_assert_eq!(
                &c.output,
                &again.output,
                "output differs between two compilations"
            );
            for (path, body) in c.output.texts() {
                let docs = yaml::parse_stream(&body).map_err(|e| {
                    TestCaseError::fail(format!("{path} does not parse back: {e}\n{body}"))
                })?;
                prop_assert!(!docs.is_empty(), "{} is empty", path);
            }
            yaml::parse_stream(&emit::stream(&c.output))
                .map_err(|e| TestCaseError::fail(format!("stream does not parse back: {e}")))?;
            let values = c.output.texts().next().map(|(_, t)| t).unwrap_or_default();
            let file = ValuesFile::from_text("values.yaml", values)
                .map_err(|d| TestCaseError::fail(d.message))?;
            let errors = validate_against_chart(chart(version), std::slice::from_ref(&file));
            prop_assert!(
                errors.is_empty(),
                "chart {} rejects the values of\n{}\n{:#?}",
                version,
                text,
                errors
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The property means something only if a fair share of policies compile.
    let n = compiled.load(Ordering::Relaxed);
    eprintln!(
        "{n} of {} compilations succeeded and were checked",
        cases * 2
    );
    assert!(
        n * 5 >= cases as usize * 2,
        "only {n} of {} compilations succeeded",
        cases * 2
    );
}

//! Injection: hostile strings in every string field of the policy schema are
//! refused or emitted verbatim; hostile file names cannot leave the header.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::fs;
use std::path::Path;

use common::binary::*;
use serde_json::{Value, json};
use z2jh_policy::validate::formats::FORMATS;

/// Strings that would change the document if pasted into YAML or a template.
fn hostile_strings() -> Vec<String> {
    let mut v: Vec<String> = [
        "line\nkey: injected",
        "x\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: injected",
        "\"double\" and 'single' quotes",
        "key: value",
        "{{ 7 * 7 }}",
        "{% if true %}injected{% endif %}",
        "{# comment #}",
        "# not a comment",
        "value # trailing comment",
        "!!python/object/apply:os.system ['id']",
        "!Secret tagged",
        "&anchor value",
        "*alias",
        "<<: {injected: true}",
        "- item",
        "[flow, list]",
        "{flow: map}",
        "yes",
        "null",
        "0x1F",
        "1_000",
        "ünïcødé ✓ 🚀 \u{202e}rtl",
        "line\u{2028}separator: injected",
        "next\u{85}line: injected",
        "\u{feff}bom",
        "tab\there",
        "cr\r\nlf: injected",
        " leading and trailing ",
        "back\\slash",
        "\u{1b}[31mansi",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("long ".repeat(20_000));
    v
}

/// A valid value for each custom format, used where a base policy leaves a
/// field unset.
fn sample(format: Option<&str>) -> Option<&'static str> {
    Some(match format? {
        "chart-version" => "4.4.0",
        "kubernetes-version" => "1.30",
        "k8s-name" => "sample",
        "k8s-subdomain" => "sample.example",
        "psa-version" => "v1.30",
        "ipv4" => "169.254.169.254",
        "cidr" => "10.1.0.0/16",
        "profile-name" => "sample-profile",
        "quantity" => "5M",
        "binary-quantity" => "1Gi",
        "cpu" => "500m",
        "provisioner" => "example.com/sample",
        "host" => "nfs.example.org",
        "hostname" => "hub.example.org",
        "fqdn-name" => "pypi.org",
        "fqdn-pattern" => "*.githubusercontent.com",
        "abs-path" => "/exports/sample",
        "rel-path" => "sample.pem",
        "email" => "admin@example.org",
        "https-url" => "https://acme.example.org/directory",
        "image-name" => "quay.io/jupyter/base-notebook",
        "image-tag" => "2025-01-06",
        "image-digest" => "sha256:4a2f0b4a6c2f6e8d7a1b3c5d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f",
        "parameter-key" => "csi.storage.k8s.io/fstype",
        "qualified-name" => "cert-manager.io/cluster-issuer",
        "label-value" => "gvisor",
        "cloud-identity" => "hub-users@my-project.iam.gserviceaccount.com",
        "sub-path" => "home/{username}",
        "hub-name" => "alice",
        "frame-ancestor" => "https://lms.example.org",
        "image-prefix" => "quay.io/jupyter",
        "anchored-regex" => r"^quay\.io/jupyter/[a-z-]+:[0-9.-]+$",
        "calendar-date" => "2027-02-28",
        "one-line-text" => "research computing",
        _ => return None,
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Item,
    /// Any value of a mapping with free keys.
    Value,
}

/// A string in the policy: a field, or the keys of a free-form mapping.
#[derive(Debug, Clone, PartialEq)]
struct StringField {
    path: Vec<Seg>,
    format: Option<String>,
    /// Limited to listed values (`enum` / `const`).
    listed: bool,
    /// The keys of the mapping at `path` rather than a value.
    map_key: bool,
}

fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    while let Some(r) = node.get("$ref").and_then(Value::as_str) {
        node = root
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {r}"));
    }
    node
}

/// Every string the policy schema allows, found by walking it.
fn string_fields(root: &Value) -> Vec<StringField> {
    fn walk(root: &Value, node: &Value, path: Vec<Seg>, out: &mut Vec<StringField>) {
        let node = resolve(root, node);
        for alt in ["allOf", "anyOf", "oneOf"] {
            for a in node
                .get(alt)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                walk(root, a, path.clone(), out);
            }
        }
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                let mut p = path.clone();
                p.push(Seg::Key(k.clone()));
                walk(root, v, p, out);
            }
        }
        if let Some(ap) = node.get("additionalProperties").filter(|a| a.is_object()) {
            out.push(StringField {
                path: path.clone(),
                format: None,
                listed: false,
                map_key: true,
            });
            let mut p = path.clone();
            p.push(Seg::Value);
            walk(root, ap, p, out);
        }
        if let Some(items) = node.get("items") {
            let mut p = path.clone();
            p.push(Seg::Item);
            walk(root, items, p, out);
        }
        let is_string = match node.get("type") {
            Some(Value::String(t)) => t == "string",
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
            _ => false,
        };
        if is_string {
            let f = StringField {
                path,
                format: node
                    .get("format")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                listed: node.get("enum").is_some() || node.get("const").is_some(),
                map_key: false,
            };
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, Vec::new(), &mut out);
    out
}

fn dotted(path: &[Seg]) -> String {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => k.clone(),
            Seg::Item => "[]".into(),
            Seg::Value => "*".into(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Base policies that, together, use every optional section. Each is
/// expanded to the complete merged policy, so every field is explicit.
const BASES: &[&str] = &[
    include_str!("../injection/hub-a.yaml"),
    include_str!("../injection/hub-b.yaml"),
    include_str!("../injection/hub-c.yaml"),
    include_str!("../injection/hub-d.yaml"),
    include_str!("../injection/hub-e.yaml"),
    include_str!("../injection/hub-f.yaml"),
    include_str!("../injection/hub-g.yaml"),
    include_str!("../injection/hub-h.yaml"),
];

/// The base policies as complete, explicit documents.
fn bases(dir: &Path) -> Vec<Value> {
    for f in ["tls.crt", "tls.key"] {
        fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("golden/https-manual")
                .join(f),
            dir.join(f),
        )
        .unwrap();
    }
    BASES
        .iter()
        .map(|text| {
            // Manual TLS files resolve beside the policy's name.
            let name = dir.join("base.yaml").display().to_string();
            let input = z2jh_policy::parse::Input::Inline {
                name,
                text: text.to_string(),
                base: dir.to_path_buf(),
            };
            let c = z2jh_policy::compile::compile(
                &input,
                &z2jh_policy::compile::Options {
                    today: Some(common::golden_today()),
                    ..Default::default()
                },
            )
            .unwrap_or_else(|e| panic!("base policy does not compile: {e:#?}"));
            serde_json::to_value(&c.loaded.policy).unwrap()
        })
        .collect()
}

/// Pointer to where `field` lives in `policy`, if its parent is there.
fn locate(policy: &Value, field: &StringField) -> Option<(String, Option<Value>)> {
    let mut node = policy;
    let mut ptr = String::new();
    let n = field.path.len();
    for (i, seg) in field.path.iter().enumerate() {
        let last = i + 1 == n;
        match seg {
            Seg::Key(k) => {
                ptr.push('/');
                ptr.push_str(&k.replace('~', "~0").replace('/', "~1"));
                match node.get(k) {
                    Some(v) => node = v,
                    None if last && node.is_object() => return Some((ptr, None)),
                    None => return None,
                }
            }
            Seg::Item => {
                node = node.as_array()?.first()?;
                ptr.push_str("/0");
            }
            Seg::Value => {
                let (k, v) = node.as_object()?.iter().next()?;
                ptr.push('/');
                ptr.push_str(&k.replace('~', "~0").replace('/', "~1"));
                node = v;
            }
        }
    }
    if field.map_key {
        return node.is_object().then_some((ptr, None));
    }
    Some((ptr, Some(node.clone())))
}

fn set(policy: &mut Value, ptr: &str, v: Value) {
    let (parent, key) = ptr.rsplit_once('/').unwrap();
    let key = key.replace("~1", "/").replace("~0", "~");
    match policy.pointer_mut(parent).unwrap() {
        Value::Object(m) => {
            m.insert(key, v);
        }
        Value::Array(a) => a[key.parse::<usize>().unwrap()] = v,
        other => panic!("cannot set {ptr} in {other}"),
    }
}

/// Compiles `policy` through the binary; `Ok(documents)` or `Err(stderr)`.
fn compile_value(dir: &Path, file: &str, policy: &Value) -> Result<Vec<Value>, String> {
    fs::write(dir.join(file), z2jh_policy::yaml::to_string(policy)).unwrap();
    // Annotated: provenance comments quote the policy's values too.
    let r = run_in(dir, &["compile", "-q", "--annotate", file], None);
    assert!(
        !r.stderr.contains("panicked"),
        "{file}: panicked:\n{}",
        r.stderr
    );
    assert!(r.cpu <= CPU_LIMIT, "{file}: took {:?} of CPU time", r.cpu);
    match r.status {
        Some(0) => {
            let text = String::from_utf8(r.stdout).unwrap();
            let lines: Vec<&str> = text.lines().take(3).collect();
            assert!(
                lines[0].starts_with("# Generated by z2jh-policy")
                    && lines[1].starts_with("# Do not edit")
                    && lines[2] == "# Source: values.yaml",
                "{file}: the header is not two comment lines:\n{}",
                &text[..text.len().min(500)]
            );
            assert_yaml11_safe(file, &text);
            Ok(z2jh_policy::yaml::parse_stream(&text)
                .unwrap_or_else(|e| panic!("{file}: output does not parse: {e}")))
        }
        Some(2) => Err(r.stderr),
        other => panic!("{file}: exit status {other:?}:\n{}", r.stderr),
    }
}

/// Helm reads YAML 1.1, where U+0085, U+2028 and U+2029 break lines (also
/// inside comments); they may appear in output only escaped.
fn assert_yaml11_safe(what: &str, text: &str) {
    if let Some(c) = text
        .chars()
        .find(|c| matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}'))
    {
        panic!("{what}: raw {c:?} in the output, a line break to Helm");
    }
}

/// Replaces `from` by `to` in every string and key.
fn substitute(v: &Value, from: &str, to: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace(from, to)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, from, to)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.replace(from, to), substitute(x, from, to)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[test]
fn every_format_has_a_sample() {
    for (name, check) in FORMATS {
        let s = sample(Some(name)).unwrap_or_else(|| {
            panic!("add a sample value for format `{name}` to tests/it/injection.rs")
        });
        assert_eq!(check(s), Ok(()), "sample for `{name}`");
    }
}

/// Every string field of the schema, set to each hostile string: either
/// the policy is refused (with a position in the policy file) or the output
/// holds exactly that string — replacing it by a benign value gives exactly
/// the output of the benign policy, so no key, document or template
/// expression was added.
#[test]
fn hostile_strings_in_every_field_are_refused_or_emitted_verbatim() {
    let d = tempfile::tempdir().unwrap();
    let bases = bases(d.path());
    let fields = string_fields(z2jh_policy::policy::schema::complete());
    assert!(
        fields.len() > 30,
        "the schema walk found only {} string fields",
        fields.len()
    );
    let hostile = hostile_strings();

    struct Job {
        field: String,
        base: Value,
        ptr: String,
        benign: String,
        map_key: bool,
    }
    let mut jobs = Vec::new();
    for f in &fields {
        let found = bases
            .iter()
            .find_map(|b| locate(b, f).map(|(ptr, cur)| (b, ptr, cur)));
        let (base, ptr, current) = found.unwrap_or_else(|| {
            panic!(
                "no base policy in tests/injection/ has the parent of `{}`; add one that uses it",
                dotted(&f.path)
            )
        });
        let benign = match current {
            Some(Value::String(s)) => s,
            _ if f.map_key => "benign-key".to_string(),
            _ if f.format.is_none() && !f.listed => "benign".to_string(),
            _ => match sample(f.format.as_deref()) {
                Some(s) => s.to_string(),
                // A listed value or a choice the base does not take: refusal is all that can be checked.
                None => String::new(),
            },
        };
        jobs.push(Job {
            field: dotted(&f.path) + if f.map_key { " (keys)" } else { "" },
            base: base.clone(),
            ptr,
            benign,
            map_key: f.map_key,
        });
    }

    let dir = d.path();
    let results = z2jh_policy::par::map(&jobs, 2, |job| {
        let mut report = Vec::new();
        let mut verbatim = 0;
        let file = format!(
            "p-{}.yaml",
            job.field.replace(['.', '[', ']', '*', ' ', '(', ')'], "_")
        );
        let with = |s: &str| {
            let mut p = job.base.clone();
            if job.map_key {
                let map = p
                    .pointer_mut(&job.ptr)
                    .and_then(Value::as_object_mut)
                    .unwrap();
                map.insert(s.to_string(), json!("value"));
            } else {
                set(&mut p, &job.ptr, json!(s));
            }
            p
        };
        let benign =
            (!job.benign.is_empty()).then(|| compile_value(dir, &file, &with(&job.benign)));
        for h in &hostile {
            match compile_value(dir, &file, &with(h)) {
                Err(stderr) => {
                    if !has_position(&stderr, &file) && !stderr.contains(&format!("`{file}`")) {
                        report.push(format!(
                            "{}: refused without naming the policy file:\n{stderr}",
                            job.field
                        ));
                    }
                }
                Ok(docs) => match &benign {
                    Some(Ok(expected)) => {
                        let back: Vec<Value> =
                            docs.iter().map(|d| substitute(d, h, &job.benign)).collect();
                        if &back != expected {
                            report.push(format!(
                                "{}: `{}` changed the output beyond the string itself",
                                job.field,
                                h.escape_debug()
                            ));
                        }
                        verbatim += 1;
                    }
                    _ => report.push(format!(
                        "{}: `{}` compiles where a benign value does not",
                        job.field,
                        h.escape_debug()
                    )),
                },
            }
        }
        (report, verbatim)
    });
    let verbatim: usize = results.iter().map(|r| r.1).sum();
    let problems: Vec<String> = results.into_iter().flat_map(|r| r.0).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Free-text fields (StorageClass parameter values) take every hostile string.
    assert!(
        verbatim >= hostile.len(),
        "only {verbatim} hostile strings reached the output"
    );
}

/// A policy file name is the one piece of user text in the header comment.
#[test]
fn hostile_file_names_cannot_leave_the_header_comment() {
    let d = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(EXAMPLE).unwrap();
    fs::write(d.path().join("plain.yaml"), &text).unwrap();
    let expected = run_in(d.path(), &["compile", "-q", "plain.yaml"], None);
    assert_eq!(expected.status, Some(0));
    let expected_docs =
        z2jh_policy::yaml::parse_stream(&String::from_utf8(expected.stdout).unwrap()).unwrap();
    for name in [
        "x\n---\nkind: Secret\n{{ 7*7 }}.yaml",
        "a\u{2028}b: c\u{85}.yaml",
        "t\u{1b}[31m\r.yaml",
    ] {
        fs::write(d.path().join(name), &text).unwrap();
        for out in [None, Some("out")] {
            let mut args = vec!["compile", "-q", "--annotate", name];
            if let Some(o) = out {
                args.extend(["-o", o]);
            }
            let r = run_in(d.path(), &args, None);
            assert_eq!(r.status, Some(0), "{name:?}: {}", r.stderr);
            let body = match out {
                None => String::from_utf8(r.stdout).unwrap(),
                Some(o) => fs::read_to_string(d.path().join(o).join("values.yaml")).unwrap(),
            };
            let comments = body.lines().take_while(|l| l.starts_with('#')).count();
            assert!(comments >= 2, "{name:?}: header lines:\n{body}");
            assert_yaml11_safe(name, &body);
            assert!(
                !body.lines().nth(1).unwrap().contains("Secret"),
                "{name:?}: the name left the first line"
            );
            if out.is_none() {
                assert_eq!(
                    z2jh_policy::yaml::parse_stream(&body).unwrap(),
                    expected_docs,
                    "{name:?}"
                );
            }
        }
    }
}

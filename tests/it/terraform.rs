//! `z2jh-policy terraform` driven exactly as Terraform's `external` data
//! source drives it: the built binary, the query as JSON on stdin, the result
//! read from stdout; every value must be a string and the keys exactly the
//! documented ones. Failures must exit non-zero with an empty stdout and one
//! meaningful line on stderr.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{chart, chart_data, render_diags};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use z2jh_policy::validate::chart_values::{ValuesFile, validate_against_chart};

const BIN: &str = env!("CARGO_BIN_EXE_z2jh-policy");

/// The result keys as docs/terraform.md lists them.
const KEYS: &[&str] = &[
    "admission_yaml",
    "chart_version",
    "manifests_yaml",
    "namespace_yaml",
    "network_yaml",
    "notes",
    "quota_yaml",
    "rbac_yaml",
    "runtime_yaml",
    "sha256",
    "storage_yaml",
    "values_yaml",
    "warnings",
];

const GROUPS: &[&str] = &[
    "namespace_yaml",
    "runtime_yaml",
    "rbac_yaml",
    "network_yaml",
    "storage_yaml",
    "quota_yaml",
    "admission_yaml",
];

struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs the program in `dir` with `stdin` as its whole input, as Terraform does.
fn run_in(dir: &Path, stdin: &[u8]) -> Run {
    let mut child = Command::new(BIN)
        .arg("terraform")
        .current_dir(dir)
        .env_remove("Z2JH_POLICY_ERROR_FORMAT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    {
        let mut input = child.stdin.take().unwrap();
        // The program may refuse before reading everything; a broken pipe is fine then.
        let _ = input.write_all(stdin);
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(query: &Value) -> Run {
    run_in(&repo(), query.to_string().as_bytes())
}

/// Checks a successful run and returns the result object.
fn success(r: &Run) -> BTreeMap<String, String> {
    assert_eq!(r.code, Some(0), "stderr: {}", r.stderr);
    assert!(
        r.stderr.is_empty(),
        "nothing on stderr on success: {}",
        r.stderr
    );
    let v: Value = serde_json::from_slice(&r.stdout).expect("stdout is JSON");
    let obj = v.as_object().expect("stdout is a JSON object");
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(keys, KEYS, "result keys");
    obj.iter()
        .map(|(k, v)| {
            let s = v
                .as_str()
                .unwrap_or_else(|| panic!("`{k}` is not a string: {v}"));
            (k.clone(), s.to_string())
        })
        .collect()
}

/// Checks a failed run: status 2, empty stdout, exactly one non-empty line on stderr.
fn failure(r: &Run) -> String {
    assert_eq!(r.code, Some(2), "stderr: {}", r.stderr);
    assert!(
        r.stdout.is_empty(),
        "stdout must be empty on failure, got {:?}",
        String::from_utf8_lossy(&r.stdout)
    );
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got {:?}", r.stderr);
    assert!(lines[0].len() > 30, "a meaningful message: {:?}", lines[0]);
    lines[0].to_string()
}

fn list(s: &str) -> Vec<String> {
    serde_json::from_str(s).expect("a JSON-encoded list of strings")
}

fn yaml_docs(s: &str) -> Vec<Value> {
    z2jh_policy::yaml::parse_stream(s).expect("valid YAML stream")
}

fn validate(values_yaml: &str, version: &str) {
    let file = ValuesFile::from_text("values_yaml", values_yaml.to_string()).unwrap();
    let errors = validate_against_chart(&chart(version), &[file]);
    assert!(
        errors.is_empty(),
        "values_yaml invalid for chart {version}:\n{}",
        render_diags(&errors)
    );
}

fn recomputed_sha(out: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for key in ["chart_version", "values_yaml", "manifests_yaml"] {
        let v = &out[key];
        h.update(format!("{key}\n{}\n", v.len()));
        h.update(v);
        h.update("\n");
    }
    format!("{:x}", h.finalize())
}

fn temp_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

// ------------------------------------------------------------------ success

#[test]
fn policy_path_gives_every_documented_key() {
    let out = success(&run(&json!({"policy": "examples/dask-pod-creator.yaml"})));
    assert_eq!(out["chart_version"], "4.4.0");

    // values_yaml is exactly what `compile` emits, without a header comment.
    let compiled = z2jh_policy::compile::compile(
        &z2jh_policy::parse::Input::File("examples/dask-pod-creator.yaml".into()),
        &Default::default(),
    )
    .unwrap();
    assert_eq!(
        out["values_yaml"],
        z2jh_policy::yaml::to_string(&compiled.rendered.values)
    );
    for key in KEYS.iter().filter(|k| k.ends_with("_yaml")) {
        // admission_yaml opens with its own comment (what admission cannot check), never the header.
        assert!(
            !out[*key].contains(z2jh_policy::emit::MARKER),
            "{key} has no header comment"
        );
    }

    // The groups are the manifests, split; empty groups are empty strings.
    let all = yaml_docs(&out["manifests_yaml"]);
    let by_group: Vec<Value> = GROUPS.iter().flat_map(|g| yaml_docs(&out[*g])).collect();
    assert_eq!(all, by_group);
    let sorted = |mut v: Vec<Value>| {
        v.sort_by_key(|m| m.to_string());
        v
    };
    assert_eq!(sorted(all), sorted(compiled.rendered.manifest_objects()));
    assert!(!out["rbac_yaml"].is_empty() && !out["namespace_yaml"].is_empty());
    assert_eq!(out["storage_yaml"], "");
    for g in GROUPS {
        for doc in yaml_docs(&out[*g]) {
            assert!(doc["kind"].is_string(), "{g}: {doc}");
        }
    }

    // Warnings and notes: JSON lists of one-line strings.
    let notes = list(&out["notes"]);
    assert!(!notes.is_empty());
    assert!(notes.iter().all(|n| !n.contains('\n')));
    assert!(
        notes.iter().any(|n| n.starts_with("preset:restricted:")),
        "{notes:?}"
    );
    list(&out["warnings"]);

    assert_eq!(out["sha256"].len(), 64);
    assert_eq!(out["sha256"], recomputed_sha(&out));
}

#[test]
fn policy_yaml_inline_resolves_extends_against_the_working_directory() {
    let text = "apiVersion: z2jh-policy/v1\nkind: HubPolicy\nmetadata: {name: inline-hub, namespace: jhub}\nextends: examples/restricted-hub.yaml\nchart: 4.4.0\nkubernetesVersion: \"1.30\"\nspec:\n  quota: {enabled: true, maxUsers: 20}\n";
    let out = success(&run(&json!({"policy_yaml": text})));
    assert!(out["namespace_yaml"].contains("part-of: inline-hub"));
    assert!(out["quota_yaml"].contains("kind: ResourceQuota"));
    assert!(out["values_yaml"].contains("hub.example.org"), "inherited");
    // The same text from a file in the same directory gives the same result.
    let dir = tempfile::tempdir_in(repo()).unwrap();
    let name = dir.path().file_name().unwrap().to_str().unwrap();
    temp_file(
        dir.path(),
        "p.yaml",
        &text.replace("extends: examples/", "extends: ../examples/"),
    );
    let from_file = success(&run(&json!({"policy": format!("{name}/p.yaml")})));
    assert_eq!(from_file["values_yaml"], out["values_yaml"]);
    assert_eq!(from_file["sha256"], out["sha256"]);
}

#[test]
fn chart_version_override_targets_3_3_8() {
    let out = success(&run(
        &json!({"policy": "examples/restricted-hub.yaml", "chart_version": "3.3.8"}),
    ));
    assert_eq!(out["chart_version"], "3.3.8");
    validate(&out["values_yaml"], "3.3.8");
    let compiled = z2jh_policy::compile::compile(
        &z2jh_policy::parse::Input::File("examples/restricted-hub.yaml".into()),
        &z2jh_policy::compile::Options {
            chart_version: Some("3.3.8".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        out["values_yaml"],
        z2jh_policy::yaml::to_string(&compiled.rendered.values)
    );
    // The chart version is part of what is deployed, so part of the digest.
    let v4 = success(&run(&json!({"policy": "examples/restricted-hub.yaml"})));
    assert_eq!(v4["chart_version"], "4.4.0");
    assert_ne!(out["sha256"], v4["sha256"]);
}

#[test]
fn values_yaml_passes_the_chart_schema_for_every_example() {
    for version in ["4.4.0", "3.3.8"] {
        for policy in [
            "examples/restricted-hub.yaml",
            "examples/dask-pod-creator.yaml",
            "examples/nfs-per-user.yaml",
            "examples/minimal.yaml",
        ] {
            // With `chart_dir` the program validates too; then the test checks on its own.
            let out = success(&run(&json!({
                "policy": policy,
                "chart_version": version,
                "chart_dir": chart_data().join(version),
            })));
            validate(&out["values_yaml"], version);
        }
    }
}

#[test]
fn empty_and_null_optional_keys_count_as_not_given() {
    let plain = success(&run(&json!({"policy": "examples/minimal.yaml"})));
    let blank = success(&run(&json!({
        "policy": "examples/minimal.yaml",
        "policy_yaml": "",
        "chart_version": "",
        "base_values": null,
        "chart_dir": ""
    })));
    assert_eq!(plain, blank);
}

const BASE: &str = "# the hub's own settings\nhub:\n  config:\n    KubeSpawner:\n      container_security_context:\n        seccompProfile:\n          type: Unconfined\n    JupyterHub:\n      authenticator_class: github\nsingleuser:\n  defaultUrl: /lab\n  serviceAccountName: hub-user\n  networkPolicy:\n    enabled: false\n";

#[test]
fn base_values_merge_under_the_policy_and_weakenings_are_warned() {
    let dir = tempfile::tempdir().unwrap();
    let base = temp_file(dir.path(), "config.yaml", BASE);
    let query = json!({
        "policy": "examples/restricted-hub.yaml",
        "base_values": base,
        "chart_dir": chart_data().join("4.4.0"),
    });
    let out = success(&run(&query));
    let values = z2jh_policy::yaml::parse(&out["values_yaml"]).unwrap().value;
    // The base's own keys survive …
    assert_eq!(values["singleuser"]["defaultUrl"], "/lab");
    assert_eq!(
        values["hub"]["config"]["JupyterHub"]["authenticator_class"],
        "github"
    );
    // … and every key the policy sets wins, including a null that removes the base's value.
    assert_eq!(values["singleuser"]["networkPolicy"]["enabled"], true);
    assert_eq!(values["singleuser"]["serviceAccountName"], Value::Null);
    validate(&out["values_yaml"], "4.4.0");

    // The base's seccomp profile on the container overrides the policy's pod-level one.
    let warnings = list(&out["warnings"]);
    let seccomp: Vec<&String> = warnings
        .iter()
        .filter(|w| w.contains("`seccomp`"))
        .collect();
    assert_eq!(seccomp.len(), 1, "{warnings:?}");
    assert!(
        seccomp[0].starts_with(&format!(
            "{}: the base values weaken `seccomp` from `runtime-default`",
            base.display()
        )),
        "{}",
        seccomp[0]
    );
    assert!(seccomp[0].contains("to `unset`"));
    // `Unconfined` also breaks the baseline standard: the user pods' level
    // falls with it, and is said once more under its own control.
    let level: Vec<&String> = warnings
        .iter()
        .filter(|w| w.contains("`user-pod-level`"))
        .collect();
    assert_eq!(level.len(), 1, "{warnings:?}");
    assert!(level[0].contains("to `privileged`"), "{}", level[0]);
    assert!(level[0].contains("runs without seccomp (`Unconfined`)"));
    assert_eq!(
        warnings.len(),
        2,
        "only the seccomp weakening and its level: {warnings:?}"
    );

    // Without a chart folder the base is only parsed, and a note says so.
    let out = success(&run(
        &json!({"policy": "examples/restricted-hub.yaml", "base_values": base}),
    ));
    // Parsing alone still finds the seccomp weakening and the level it costs.
    assert_eq!(list(&out["warnings"]).len(), 2, "{:?}", out["warnings"]);
    assert!(
        list(&out["notes"])
            .iter()
            .any(|n| n.contains("give `chart_dir`"))
    );
}

#[test]
fn a_base_without_weakenings_warns_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let base = temp_file(
        dir.path(),
        "config.yaml",
        "singleuser:\n  defaultUrl: /lab\ncull:\n  timeout: 3600\n",
    );
    let out = success(&run(
        &json!({"policy": "examples/restricted-hub.yaml", "base_values": base, "chart_dir": chart_data().join("4.4.0")}),
    ));
    assert_eq!(list(&out["warnings"]), Vec::<String>::new());
}

/// A base of only comments is `{}` to Helm, as it is to `audit` and
/// `check`: the values are the policy's alone.
#[test]
fn a_base_of_only_comments_is_empty_values() {
    let dir = tempfile::tempdir().unwrap();
    let base = temp_file(
        dir.path(),
        "config.yaml",
        "# nothing set here yet
",
    );
    let with = success(&run(
        &json!({"policy": "examples/restricted-hub.yaml", "base_values": base, "chart_dir": chart_data().join("4.4.0")}),
    ));
    let without = success(&run(
        &json!({"policy": "examples/restricted-hub.yaml", "chart_dir": chart_data().join("4.4.0")}),
    ));
    assert_eq!(with["values_yaml"], without["values_yaml"]);
    assert_eq!(list(&with["warnings"]), Vec::<String>::new());
}

#[test]
fn the_example_module_query_works_from_its_folder() {
    let dir = repo().join("examples/terraform");
    let query = json!({
        "policy": "./policy.yaml",
        "base_values": "./config.yaml",
        "chart_dir": chart_data().join("4.4.0"),
    });
    let r = run_in(&dir, query.to_string().as_bytes());
    let out = success(&r);
    assert_eq!(list(&out["warnings"]), Vec::<String>::new());
    assert!(!out["quota_yaml"].is_empty());
    validate(&out["values_yaml"], "4.4.0");
    // The module reads the release namespace from the policy.
    let policy =
        z2jh_policy::yaml::parse(&std::fs::read_to_string(dir.join("policy.yaml")).unwrap())
            .unwrap()
            .value;
    let ns = yaml_docs(&out["namespace_yaml"]);
    assert_eq!(ns[0]["metadata"]["name"], policy["metadata"]["namespace"]);
    // Every query key main.tf sends is one the program knows.
    let main = std::fs::read_to_string(dir.join("main.tf")).unwrap();
    let query_block = main.split("query = {").nth(1).unwrap();
    let query_block = query_block.split('}').next().unwrap();
    for line in query_block.lines().filter(|l| l.contains('=')) {
        let key = line.split('=').next().unwrap().trim();
        assert!(
            z2jh_policy::terraform::query::KEYS.contains(&key),
            "main.tf sends unknown key `{key}`"
        );
    }
}

#[test]
fn output_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let base = temp_file(dir.path(), "config.yaml", BASE);
    let query = json!({"policy": "examples/dask-pod-creator.yaml", "base_values": base});
    let a = run(&query);
    let b = run(&query);
    success(&a);
    assert_eq!(a.stdout, b.stdout, "two runs are byte-identical");
    // Key order in the query does not matter either.
    let reordered = format!(
        "{{\"base_values\": {}, \"policy\": \"examples/dask-pod-creator.yaml\"}}",
        Value::String(base.display().to_string())
    );
    let c = run_in(&repo(), reordered.as_bytes());
    assert_eq!(a.stdout, c.stdout);
}

// ------------------------------------------------------------------ errors

fn fails_with(stdin: &str) -> String {
    failure(&run_in(&repo(), stdin.as_bytes()))
}

#[test]
fn stdin_not_json() {
    let e = fails_with("policy = \"p.yaml\"");
    assert!(
        e.starts_with("z2jh-policy terraform: stdin is not valid JSON"),
        "{e}"
    );
    let e = fails_with("");
    assert!(e.contains("stdin is empty"), "{e}");
}

#[test]
fn stdin_not_an_object() {
    let e = fails_with("[\"examples/minimal.yaml\"]");
    assert!(
        e.contains("stdin holds an array; expected one JSON object"),
        "{e}"
    );
    let e = fails_with("\"examples/minimal.yaml\"");
    assert!(e.contains("holds a string"), "{e}");
}

#[test]
fn non_string_value_names_the_key() {
    let e = fails_with(r#"{"policy": "examples/minimal.yaml", "chart_version": 4.4}"#);
    assert!(
        e.contains("query key `chart_version` is a number; every query value must be a string"),
        "{e}"
    );
    let e = fails_with(r#"{"policy": ["examples/minimal.yaml"]}"#);
    assert!(e.contains("`policy` is an array"), "{e}");
    let e = fails_with(r#"{"policy": "examples/minimal.yaml", "base_values": true}"#);
    assert!(e.contains("`base_values` is a boolean"), "{e}");
}

#[test]
fn missing_policy_file() {
    let e = fails_with(r#"{"policy": "no/such/policy.yaml"}"#);
    assert_eq!(
        e,
        "z2jh-policy terraform: cannot read `no/such/policy.yaml`: no such file"
    );
}

#[test]
fn unreadable_policy() {
    let e = fails_with(r#"{"policy": "examples"}"#);
    assert!(e.contains("`examples` is a directory"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("binary.yaml");
    std::fs::write(&p, b"kind: \xff\xfe\n").unwrap();
    let e = failure(&run(&json!({ "policy": p })));
    assert!(
        e.starts_with(&format!("{}:1:7: ", p.display())),
        "located: {e}"
    );
    assert!(e.contains("not UTF-8"), "{e}");
}

#[test]
fn invalid_policy_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let p = temp_file(
        dir.path(),
        "p.yaml",
        "apiVersion: z2jh-policy/v1\nkind: HubPolicy\nmetadata: {name: hub, namespace: jhub}\nchart: 4.4.0\nkubernetesVersion: \"1.30\"\nspec:\n  egres: {}\n",
    );
    let e = failure(&run(&json!({ "policy": p })));
    assert_eq!(
        e,
        format!(
            "{}:7:3: unknown key `egres` in `spec`; did you mean `egress`?",
            p.display()
        )
    );
    // Inline text is named `policy_yaml`.
    let text = "apiVersion: z2jh-policy/v1\nkind: HubPolicy\nmetadata: {name: Bad_Name, namespace: jhub}\nchart: 4.4.0\nkubernetesVersion: \"1.30\"\nspec: {}\n";
    let e = failure(&run(&json!({ "policy_yaml": text })));
    assert!(
        e.starts_with("policy_yaml:3:18: invalid `metadata.name`: `Bad_Name`"),
        "{e}"
    );
}

#[test]
fn unknown_keys_are_named_with_a_suggestion() {
    let e = fails_with(r#"{"policy": "examples/minimal.yaml", "chart_verison": "3.3.8"}"#);
    assert!(
        e.starts_with(
            "z2jh-policy terraform: unknown query key `chart_verison` (did you mean `chart_version`?); the keys are `policy`, `policy_yaml`,"
        ),
        "{e}"
    );
}

#[test]
fn both_or_neither_policy_key() {
    let e = fails_with(r#"{"policy": "examples/minimal.yaml", "policy_yaml": "kind: HubPolicy"}"#);
    assert!(e.contains("gives both `policy` and `policy_yaml`"), "{e}");
    let e = fails_with(r#"{"chart_version": "4.4.0"}"#);
    assert!(e.contains("gives neither `policy`"), "{e}");
    let e = fails_with("{}");
    assert!(e.contains("gives neither `policy`"), "{e}");
}

#[test]
fn invalid_chart_version() {
    let e = fails_with(r#"{"policy": "examples/minimal.yaml", "chart_version": "2.0.0"}"#);
    assert!(
        e.contains("invalid `chart_version` `2.0.0` in the query; expected a chart version of the 3.x or 4.x line"),
        "{e}"
    );
}

#[test]
fn bad_base_values() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    let e = failure(&run(
        &json!({"policy": "examples/minimal.yaml", "base_values": missing}),
    ));
    assert!(
        e.contains("cannot read") && e.contains("missing.yaml"),
        "{e}"
    );
    let broken = temp_file(dir.path(), "broken.yaml", "hub:\n  config: [1\n");
    let e = failure(&run(
        &json!({"policy": "examples/minimal.yaml", "base_values": broken}),
    ));
    assert!(
        e.starts_with(&format!("{}:", broken.display())) && e.contains("invalid YAML"),
        "{e}"
    );
    // Against the chart schema, the error points into the base file.
    let typo = temp_file(
        dir.path(),
        "typo.yaml",
        "singleuser:\n  defaultUrl: /lab\n  cpuu: 2\n",
    );
    let e = failure(&run(&json!({
        "policy": "examples/minimal.yaml",
        "base_values": typo,
        "chart_dir": chart_data().join("4.4.0"),
    })));
    assert_eq!(
        e,
        format!(
            "{}:3:3: unknown key `cpuu` in `singleuser`; did you mean `cpu`?",
            typo.display()
        )
    );
}

#[test]
fn chart_dir_must_match_the_target_version() {
    let e = fails_with(&json!({"policy": "examples/minimal.yaml", "chart_version": "3.3.8", "chart_dir": chart_data().join("4.4.0")}).to_string());
    assert!(
        e.contains("holds chart jupyterhub 4.4.0, but the policy targets chart 3.3.8"),
        "{e}"
    );
}

#[test]
fn a_terminal_on_stdin_is_refused() {
    // `script` (util-linux) gives the program a pseudo-terminal as stdin.
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &format!("{BIN} terraform"), "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("`script` from util-linux is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("expects the query as one JSON object on stdin")
            && text.contains("stdin is a terminal"),
        "{text}"
    );
}

#[test]
fn today_in_the_query_decides_which_exceptions_have_expired() {
    let policy = "golden/check/exceptions/policy.yaml";
    // The policy's exceptions run until 2027-02-28.
    let before = success(&run(&json!({"policy": policy, "today": "2027-02-28"})));
    assert!(before["values_yaml"].contains("singleuser"));
    // One line per expired exception, each at its place in the policy.
    let after = run(&json!({"policy": policy, "today": "2027-03-01"}));
    assert_eq!(after.code, Some(2), "{}", after.stderr);
    assert!(after.stdout.is_empty());
    let lines: Vec<&str> = after.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", after.stderr);
    assert!(lines[0].starts_with(&format!("{policy}:13:14: the exception for `seccomp`")));
    assert!(
        lines
            .iter()
            .all(|l| l.contains("expired on 2027-02-28 (1 day ago)"))
    );
    let bad = fails_with(&json!({"policy": policy, "today": "2027-02-30"}).to_string());
    assert!(
        bad.contains("invalid `today` `2027-02-30` in the query"),
        "{bad}"
    );
}

//! Hostile and broken input, through the built binary as a user (or an
//! attacker) runs it. Every case must end in a clear error — the file, the
//! line and column where they apply, what was expected — with exit status
//! 2, no panic, nothing written, within a second of CPU time and under a
//! memory cap.
//!
//! Also here: injection through every string field of the policy schema,
//! byte-identical output across runs, and output directories that are
//! replaced all at once or not at all.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use z2jh_policy::validate::formats::FORMATS;

const BIN: &str = env!("CARGO_BIN_EXE_z2jh-policy");
/// CPU time (user + system) one run may use.
const CPU_LIMIT: Duration = Duration::from_secs(1);
/// Wall-clock time after which a run counts as hung and is killed.
const HANG_LIMIT: Duration = Duration::from_secs(30);
/// Address-space cap of every run, in KiB (`ulimit -v`): an input that
/// makes the program allocate without bound fails instead of passing.
const MEMORY_LIMIT_KIB: u64 = 256 * 1024;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/restricted-hub.yaml");

/// What one run of the binary did.
struct Run {
    status: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    cpu: Duration,
}

/// Runs the binary in `dir` with `stdin` (default: empty), capped and timed.
fn run_in(dir: &Path, args: &[&str], stdin: Option<&Path>) -> Run {
    let out = tempfile::tempfile().unwrap();
    let err = tempfile::tempfile().unwrap();
    let input = match stdin {
        Some(p) => Stdio::from(fs::File::open(p).unwrap()),
        None => Stdio::null(),
    };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_LIMIT_KIB}; exec \"$0\" \"$@\""))
        .arg(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("Z2JH_POLICY_ERROR_FORMAT")
        .stdin(input)
        .stdout(out.try_clone().unwrap())
        .stderr(err.try_clone().unwrap())
        .spawn()
        .unwrap();
    let (status, cpu) = wait_measured(&mut child, args);
    let read = |mut f: fs::File| {
        use std::io::{Read, Seek};
        let mut v = Vec::new();
        f.seek(std::io::SeekFrom::Start(0)).unwrap();
        f.read_to_end(&mut v).unwrap();
        v
    };
    Run {
        status,
        stdout: read(out),
        stderr: String::from_utf8_lossy(&read(err)).into_owned(),
        cpu,
    }
}

/// Waits for the child, reading its CPU time from `/proc` while it is a
/// zombie (before it is reaped), so a busy machine does not skew the limit.
fn wait_measured(child: &mut Child, args: &[&str]) -> (Option<i32>, Duration) {
    let start = Instant::now();
    let stat = format!("/proc/{}/stat", child.id());
    loop {
        if let Ok(text) = fs::read_to_string(&stat) {
            // Fields after `(comm)`: state is the first, utime the 12th, stime the 13th.
            let fields: Vec<&str> = text[text.rfind(')').unwrap() + 2..].split(' ').collect();
            if fields[0] == "Z" {
                let ticks: u64 =
                    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
                let status = child.wait().unwrap();
                // USER_HZ is 100 on Linux.
                return (status.code(), Duration::from_millis(ticks * 10));
            }
        }
        if start.elapsed() > HANG_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`z2jh-policy {}` hung for {HANG_LIMIT:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn charts() -> PathBuf {
    common::chart_data()
}

/// Asserts the common contract of an input error.
fn assert_input_error(r: &Run, what: &str, needles: &[&str]) {
    assert_eq!(
        r.status,
        Some(2),
        "{what}: exit status 2 expected; stderr:\n{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("panicked"),
        "{what}: panicked:\n{}",
        r.stderr
    );
    assert!(
        r.stdout.is_empty(),
        "{what}: nothing may reach stdout, got {} bytes",
        r.stdout.len()
    );
    assert!(
        r.cpu <= CPU_LIMIT,
        "{what}: took {:?} of CPU time (limit {CPU_LIMIT:?})",
        r.cpu
    );
    for n in needles {
        assert!(
            r.stderr.contains(n),
            "{what}: expected `{n}` in stderr:\n{}",
            r.stderr
        );
    }
}

/// True when stderr points at `file:LINE:COLUMN` with a real line.
fn has_position(stderr: &str, file: &str) -> bool {
    stderr.match_indices(&format!("{file}:")).any(|(i, m)| {
        let rest = &stderr[i + m.len()..];
        let line: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let after = &rest[line.len()..];
        !line.is_empty()
            && line != "0"
            && after.starts_with(':')
            && after[1..].starts_with(|c: char| c.is_ascii_digit())
    })
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// One malformed input file.
struct Case {
    name: &'static str,
    file: &'static str,
    /// Expected in the message.
    needle: &'static str,
    /// Whether the message must carry a line and column.
    positioned: bool,
}

/// Writes every broken input into `dir` and returns the cases.
fn broken_inputs(dir: &Path) -> Vec<Case> {
    let w = |name: &str, bytes: &[u8]| fs::write(dir.join(name), bytes).unwrap();
    // Billion laughs: ten levels of ten aliases each.
    let mut bomb =
        String::from("apiVersion: z2jh-policy/v1\na: &a [x, x, x, x, x, x, x, x, x, x]\n");
    let mut prev = 'a';
    for c in 'b'..='k' {
        bomb.push_str(&format!(
            "{c}: &{c} [{}]\n",
            vec![format!("*{prev}"); 10].join(", ")
        ));
        prev = c;
    }
    w("bomb.yaml", bomb.as_bytes());
    // Wide alias fan-out of one long string.
    let long = "x".repeat(1 << 20);
    let mut fan = format!("s: &s \"{long}\"\nl: [");
    fan.push_str(&vec!["*s"; 64].join(", "));
    fan.push_str("]\n");
    w("fan.yaml", fan.as_bytes());
    w(
        "deep-flow.yaml",
        format!("a: {}", "[".repeat(100_000)).as_bytes(),
    );
    let deep_block: String = (0..200)
        .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
        .collect();
    w("deep-block.yaml", deep_block.as_bytes());
    // 100 MB, sparse: refused by its size before a byte is read.
    fs::File::create(dir.join("huge.yaml"))
        .unwrap()
        .set_len(100 << 20)
        .unwrap();
    // Just under the size limit, but far too many nodes.
    w(
        "many.yaml",
        "l:\n"
            .bytes()
            .chain("- 1\n".repeat(4_000_000).bytes())
            .take(16 << 20)
            .collect::<Vec<u8>>()
            .as_slice(),
    );
    w(
        "utf8.yaml",
        b"apiVersion: z2jh-policy/v1\nkind: \xff\xfeHubPolicy\n",
    );
    w(
        "binary.yaml",
        &(0..=255u8).cycle().take(4096).collect::<Vec<u8>>(),
    );
    w(
        "dup.yaml",
        b"apiVersion: z2jh-policy/v1\nkind: HubPolicy\nkind: HubPolicy\n",
    );
    w(
        "tabs.yaml",
        b"apiVersion: z2jh-policy/v1\nmetadata:\n\tname: x\n",
    );
    w(
        "multi.yaml",
        b"apiVersion: z2jh-policy/v1\n---\nkind: HubPolicy\n",
    );
    w("empty.yaml", b"");
    w("comments.yaml", b"# nothing but a comment\n\n");
    fs::create_dir_all(dir.join("dir.yaml")).unwrap();
    w("plain-file", b"not a directory\n");
    vec![
        Case {
            name: "alias bomb",
            file: "bomb.yaml",
            needle: "alias bomb",
            positioned: true,
        },
        Case {
            name: "alias fan-out of a long string",
            file: "fan.yaml",
            needle: "strings total more than",
            positioned: true,
        },
        Case {
            name: "deep flow nesting",
            file: "deep-flow.yaml",
            needle: "nested too deeply",
            positioned: true,
        },
        Case {
            name: "deep block nesting",
            file: "deep-block.yaml",
            needle: "nested too deeply",
            positioned: true,
        },
        Case {
            name: "100 MB file",
            file: "huge.yaml",
            needle: "104857600 bytes; files over 16777216 bytes are refused",
            positioned: false,
        },
        Case {
            name: "too many nodes",
            file: "many.yaml",
            needle: "more than 50000 values",
            positioned: true,
        },
        Case {
            name: "invalid UTF-8",
            file: "utf8.yaml",
            needle: "bytes that are not UTF-8; expected UTF-8 YAML text",
            positioned: true,
        },
        Case {
            name: "binary file",
            file: "binary.yaml",
            needle: "binary data; expected UTF-8 YAML text",
            positioned: true,
        },
        Case {
            name: "duplicate keys",
            file: "dup.yaml",
            needle: "duplicate key `kind`",
            positioned: true,
        },
        Case {
            name: "tab indentation",
            file: "tabs.yaml",
            needle: "YAML indentation must use spaces, not tabs",
            positioned: true,
        },
        Case {
            name: "two documents",
            file: "multi.yaml",
            needle: "found a second YAML document (`---`); expected exactly one",
            positioned: true,
        },
        Case {
            name: "empty file",
            file: "empty.yaml",
            needle: "file is empty; expected one YAML document",
            positioned: false,
        },
        Case {
            name: "only comments",
            file: "comments.yaml",
            needle: "file is empty; expected one YAML document",
            positioned: false,
        },
        Case {
            name: "directory",
            file: "dir.yaml",
            needle: "is a directory; expected a YAML file",
            positioned: false,
        },
        Case {
            name: "path through a file",
            file: "plain-file/policy.yaml",
            needle: "a component of the path is a file, not a directory",
            positioned: false,
        },
        Case {
            name: "missing file",
            file: "missing.yaml",
            needle: "no such file",
            positioned: false,
        },
        Case {
            name: "endless device",
            file: "/dev/zero",
            needle: "more than 16777216 bytes",
            positioned: false,
        },
    ]
}

fn check_case(c: &Case, r: &Run, file_label: &str, command: &str) {
    let what = format!("{command} / {}", c.name);
    assert_input_error(r, &what, &[c.needle, file_label]);
    if c.positioned {
        assert!(
            has_position(&r.stderr, file_label),
            "{what}: no `{file_label}:LINE:COLUMN` in:\n{}",
            r.stderr
        );
    }
}

#[test]
fn compile_refuses_broken_input() {
    let d = tempfile::tempdir().unwrap();
    for mut c in broken_inputs(d.path()) {
        if c.file == "dir.yaml" {
            // `compile` takes directories of policies (batch mode); this one has none.
            c.needle = "holds no policy files";
        }
        let r = run_in(d.path(), &["compile", c.file, "-o", "out"], None);
        check_case(&c, &r, c.file, "compile");
        assert!(
            !d.path().join("out").exists(),
            "compile / {}: nothing may be written",
            c.name
        );
    }
}

#[test]
fn validate_refuses_broken_input() {
    let d = tempfile::tempdir().unwrap();
    let chart = charts().join("4.4.0");
    for c in broken_inputs(d.path()) {
        let r = run_in(
            d.path(),
            &["validate", "--chart", chart.to_str().unwrap(), c.file],
            None,
        );
        check_case(&c, &r, c.file, "validate");
    }
    // A chart folder that is a file, or that misses its schema.
    let r = run_in(
        d.path(),
        &["validate", "--chart", "plain-file", "empty.yaml"],
        None,
    );
    assert_input_error(
        &r,
        "validate / chart is a file",
        &["plain-file/Chart.yaml", "not a directory"],
    );
    fs::create_dir_all(d.path().join("half-chart")).unwrap();
    fs::copy(
        charts().join("4.4.0/Chart.yaml"),
        d.path().join("half-chart/Chart.yaml"),
    )
    .unwrap();
    let r = run_in(
        d.path(),
        &["validate", "--chart", "half-chart", "empty.yaml"],
        None,
    );
    assert_input_error(
        &r,
        "validate / chart without values.yaml",
        &["half-chart/values.yaml", "no such file"],
    );
    // A broken values file later on the command line is found too.
    fs::write(d.path().join("ok.yaml"), "hub: {}\n").unwrap();
    let r = run_in(
        d.path(),
        &[
            "validate",
            "--chart",
            chart.to_str().unwrap(),
            "ok.yaml",
            "dup.yaml",
        ],
        None,
    );
    assert_input_error(
        &r,
        "validate / second file broken",
        &["dup.yaml:3:1", "duplicate key"],
    );
}

#[test]
fn terraform_refuses_broken_policy_files_and_inline_text() {
    let d = tempfile::tempdir().unwrap();
    for c in broken_inputs(d.path()) {
        let query = d.path().join("query.json");
        fs::write(&query, json!({ "policy": c.file }).to_string()).unwrap();
        let r = run_in(d.path(), &["terraform"], Some(&query));
        check_case(&c, &r, c.file, "terraform policy");
        // The same text given inline (where it is text a JSON string can hold).
        let path = d.path().join(c.file);
        if c.file.starts_with('/')
            || !path.is_file()
            || fs::metadata(&path).unwrap().len() > 1 << 20
        {
            continue;
        }
        let Ok(text) = String::from_utf8(fs::read(&path).unwrap()) else {
            continue;
        };
        if text.is_empty() {
            continue;
        }
        fs::write(&query, json!({ "policy_yaml": text }).to_string()).unwrap();
        let r = run_in(d.path(), &["terraform"], Some(&query));
        check_case(&c, &r, "policy_yaml", "terraform policy_yaml");
    }
}

#[test]
fn terraform_refuses_broken_stdin() {
    let d = tempfile::tempdir().unwrap();
    let w = |name: &str, bytes: &[u8]| {
        fs::write(d.path().join(name), bytes).unwrap();
        d.path().join(name)
    };
    let huge = d.path().join("huge.json");
    fs::File::create(&huge).unwrap().set_len(100 << 20).unwrap();
    let cases: Vec<(&str, PathBuf, &str)> = vec![
        ("100 MB on stdin", huge, "over 16777216 bytes"),
        (
            "endless stdin",
            PathBuf::from("/dev/zero"),
            "over 16777216 bytes",
        ),
        (
            "invalid UTF-8",
            w("utf8.json", b"{\"policy\": \"\xff\"}"),
            "stdin is not UTF-8 text",
        ),
        (
            "binary",
            w(
                "bin.json",
                &(0..=255u8).cycle().take(4096).collect::<Vec<u8>>(),
            ),
            "stdin is not UTF-8 text",
        ),
        ("empty", w("empty.json", b""), "stdin is empty"),
        (
            "deep nesting",
            w("deep.json", "[".repeat(100_000).as_bytes()),
            "recursion limit exceeded",
        ),
        (
            "duplicate keys",
            w("dup.json", br#"{"policy": "a.yaml", "policy": "b.yaml"}"#),
            "query key `policy` is given twice",
        ),
        (
            "two documents",
            w("two.json", br#"{"policy": "a.yaml"} {"policy": "b.yaml"}"#),
            "trailing characters",
        ),
        (
            "not an object",
            w("list.json", b"[1, 2]"),
            "expected one JSON object",
        ),
        ("directory", d.path().to_path_buf(), "cannot read stdin"),
    ];
    for (what, stdin, needle) in cases {
        let r = run_in(d.path(), &["terraform"], Some(&stdin));
        assert_input_error(
            &r,
            &format!("terraform / {what}"),
            &[needle, "z2jh-policy terraform:"],
        );
    }
}

#[test]
fn unreadable_files_are_reported() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("secret.yaml");
    fs::copy(EXAMPLE, &p).unwrap();
    if is_root() {
        // chmod 000 does not stop root; the path-through-a-file case in
        // `compile_refuses_broken_input` covers an unreadable path instead.
        eprintln!("skipped: running as root, where mode 000 files stay readable");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&p, fs::Permissions::from_mode(0o000)).unwrap();
    let r = run_in(d.path(), &["compile", "secret.yaml", "-o", "out"], None);
    assert_input_error(
        &r,
        "compile / mode 000",
        &["cannot read `secret.yaml`: permission denied"],
    );
    assert!(!d.path().join("out").exists());
}

#[test]
fn an_output_directory_that_cannot_be_created_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("plain-file"), "keep me\n").unwrap();
    fs::copy(EXAMPLE, d.path().join("p.yaml")).unwrap();
    let r = run_in(
        d.path(),
        &["compile", "p.yaml", "-q", "-o", "plain-file/out"],
        None,
    );
    assert_input_error(
        &r,
        "compile -o under a file",
        &["cannot write `plain-file/out", "nothing was written"],
    );
    assert_eq!(
        fs::read_to_string(d.path().join("plain-file")).unwrap(),
        "keep me\n"
    );
    let r = run_in(d.path(), &["man", "-o", "plain-file/man"], None);
    assert_input_error(&r, "man -o under a file", &["cannot write `plain-file/man"]);
    assert_no_temp_files(d.path());
}

#[test]
fn errors_render_as_json_lines_with_positions() {
    let d = tempfile::tempdir().unwrap();
    broken_inputs(d.path());
    let r = run_in(
        d.path(),
        &["--error-format", "json", "compile", "dup.yaml"],
        None,
    );
    assert_eq!(r.status, Some(2));
    let first: Value = serde_json::from_str(r.stderr.lines().next().unwrap()).unwrap();
    assert_eq!(first["severity"], "error");
    assert_eq!(
        first["location"],
        json!({"file": "dup.yaml", "line": 3, "column": 1})
    );
    for line in r.stderr.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
}

// ---------------------------------------------------------------- injection

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
        "abs-path" => "/exports/sample",
        "rel-path" => "sample.pem",
        "email" => "admin@example.org",
        "https-url" => "https://acme.example.org/directory",
        "image-name" => "quay.io/jupyter/base-notebook",
        "image-tag" => "2025-01-06",
        "image-digest" => "sha256:4a2f0b4a6c2f6e8d7a1b3c5d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f",
        "parameter-key" => "csi.storage.k8s.io/fstype",
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
    r#"
apiVersion: z2jh-policy/v1
kind: HubPolicy
metadata: {name: hub-a, namespace: jhub}
extends: restricted
chart: 4.4.0
kubernetesVersion: "1.30"
spec:
  apiAccess:
    mode: pod-creator
    podCreator:
      serviceAccount: dask-user
      workloadNamespace: jhub-dask
      apiServer: {cidrs: [10.0.0.1/32], ports: [443]}
      extraPermissions: [logs]
  userPods:
    seccomp: {localhost: profiles/jupyter.json}
    appArmor: {localhost: jupyter-notebook}
  storage:
    type: block
    capacity: 20Gi
    block:
      storageClass:
        name: jupyter-user-block
        provisioner: ebs.csi.aws.com
        parameters: {type: gp3}
        reclaimPolicy: Delete
        allowVolumeExpansion: true
  https:
    mode: letsencrypt
    hosts: [hub.example.org]
    letsencrypt:
      contactEmail: admin@example.org
      acmeServer: https://acme-staging-v02.api.letsencrypt.org/directory
  egress:
    profile: http-https
    allow:
      - cidr: 10.8.0.0/14
        except: [10.8.1.0/24]
        ports: [{port: 8786}]
  bandwidth: {ingress: 50M, egress: 10M}
  resources:
    cpu: {guarantee: 500m, limit: "2"}
  images:
    pullPolicy: always
    userImage:
      name: quay.io/jupyter/scipy-notebook
      tag: "2025-01-06"
      digest: sha256:4a2f0b4a6c2f6e8d7a1b3c5d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f
"#,
    r#"
apiVersion: z2jh-policy/v1
kind: HubPolicy
metadata: {name: hub-b, namespace: jhub}
extends: restricted
chart: 4.4.0
kubernetesVersion: "1.30"
spec:
  userPods:
    identity: {mode: per-user, perUserBase: 200000, fsGid: 100}
  storage:
    type: nfs
    capacity: 20Gi
    nfs:
      isolation: per-user-volume
      storageClass:
        name: jupyter-user-nfs
        provisioner: cluster.local/nfs-subdir-external-provisioner
        onDelete: archive
  https:
    mode: secret
    hosts: [hub.example.org]
    secretName: hub-tls
"#,
    r#"
apiVersion: z2jh-policy/v1
kind: HubPolicy
metadata: {name: hub-c, namespace: jhub}
extends: restricted
chart: 4.4.0
kubernetesVersion: "1.30"
spec:
  storage:
    type: nfs
    capacity: 100Gi
    nfs: {isolation: shared-subpath, server: nfs.example.org, path: /exports/home}
  https:
    mode: manual
    hosts: [hub.example.org]
    manual: {certFile: tls.crt, keyFile: tls.key}
"#,
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
            let c = z2jh_policy::compile::compile(&input, &Default::default())
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
    let r = run_in(dir, &["compile", "-q", file], None);
    assert!(
        !r.stderr.contains("panicked"),
        "{file}: panicked:\n{}",
        r.stderr
    );
    assert!(r.cpu <= CPU_LIMIT, "{file}: took {:?} of CPU time", r.cpu);
    match r.status {
        Some(0) => {
            let text = String::from_utf8(r.stdout).unwrap();
            // Only the two header lines may be comments; everything else is data.
            let header: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).collect();
            assert_eq!(
                header.len(),
                3,
                "{file}: header and first `# Source:` line:\n{}",
                &text[..text.len().min(500)]
            );
            Ok(z2jh_policy::yaml::parse_stream(&text)
                .unwrap_or_else(|e| panic!("{file}: output does not parse: {e}")))
        }
        Some(2) => Err(r.stderr),
        other => panic!("{file}: exit status {other:?}:\n{}", r.stderr),
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
            panic!("add a sample value for format `{name}` to tests/hostile.rs")
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
                "no base policy in tests/hostile.rs has the parent of `{}`; add one that uses it",
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
            let mut args = vec!["compile", "-q", name];
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

// ---------------------------------------------------------------- determinism and atomicity

fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            if p.is_dir() {
                out.push((rel + "/", Vec::new()));
                stack.push(p);
            } else {
                out.push((rel, fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn assert_no_temp_files(dir: &Path) {
    for (name, _) in tree(dir) {
        assert!(
            !name.contains(".z2jh-policy-"),
            "temporary file left behind: {name}"
        );
    }
}

#[test]
fn output_is_byte_identical_across_runs() {
    let d = tempfile::tempdir().unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let ex = examples.to_str().unwrap();
    let a = run_in(d.path(), &["compile", "-q", ex], None);
    let b = run_in(d.path(), &["compile", "-q", ex], None);
    assert_eq!(a.status, Some(0), "{}", a.stderr);
    assert!(a.stdout == b.stdout, "two runs printed different bytes");
    assert_eq!(
        run_in(d.path(), &["compile", "-q", ex, "-o", "one/{name}"], None).status,
        Some(0)
    );
    assert_eq!(
        run_in(d.path(), &["compile", "-q", ex, "-o", "two/{name}"], None).status,
        Some(0)
    );
    let (one, two) = (tree(&d.path().join("one")), tree(&d.path().join("two")));
    assert!(one.len() >= 8, "{one:?}");
    assert!(one == two, "two runs wrote different files");
    // Generated text carries no time or environment.
    let text = String::from_utf8_lossy(&a.stdout);
    assert!(!text.contains(&d.path().display().to_string()));
}

#[test]
fn a_failed_write_leaves_every_file_as_it_was() {
    let d = tempfile::tempdir().unwrap();
    fs::copy(EXAMPLE, d.path().join("p.yaml")).unwrap();
    assert_eq!(
        run_in(d.path(), &["compile", "-q", "p.yaml", "-o", "out"], None).status,
        Some(0)
    );
    let before = tree(&d.path().join("out"));
    // The next compile would change values.yaml; one of its targets is now a directory.
    let manifest = before
        .iter()
        .find(|(n, _)| n.starts_with("manifests/") && n.ends_with(".yaml"))
        .unwrap()
        .0
        .clone();
    fs::remove_file(d.path().join("out").join(&manifest)).unwrap();
    fs::create_dir(d.path().join("out").join(&manifest)).unwrap();
    let blocked = tree(&d.path().join("out"));
    let r = run_in(
        d.path(),
        &[
            "compile",
            "-q",
            "p.yaml",
            "--chart-version",
            "3.3.8",
            "-o",
            "out",
        ],
        None,
    );
    assert_input_error(
        &r,
        "compile over a directory",
        &["is a directory", &manifest],
    );
    assert!(
        tree(&d.path().join("out")) == blocked,
        "files changed although the write failed"
    );
    assert_no_temp_files(d.path());
}

#[test]
fn a_batch_is_written_whole_or_not_at_all() {
    let d = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(EXAMPLE).unwrap();
    fs::create_dir(d.path().join("pols")).unwrap();
    for n in ["a", "b", "c"] {
        fs::write(
            d.path().join(format!("pols/{n}.yaml")),
            text.replace("name: research-hub", &format!("name: hub-{n}")),
        )
        .unwrap();
    }
    // The last policy's output directory holds a directory where values.yaml goes.
    fs::create_dir_all(d.path().join("out/hub-c/values.yaml")).unwrap();
    let r = run_in(
        d.path(),
        &["compile", "-q", "pols", "-o", "out/{name}"],
        None,
    );
    assert_input_error(
        &r,
        "batch with a blocked target",
        &["out/hub-c/values.yaml", "is a directory"],
    );
    assert!(
        !d.path().join("out/hub-a").exists() && !d.path().join("out/hub-b").exists(),
        "{:?}",
        tree(d.path())
    );

    // One policy that does not compile: nothing at all is written.
    fs::remove_dir_all(d.path().join("out")).unwrap();
    fs::write(
        d.path().join("pols/b.yaml"),
        text.replace("name: research-hub", "name: Bad_Name"),
    )
    .unwrap();
    let r = run_in(
        d.path(),
        &["compile", "-q", "pols", "-o", "out/{name}"],
        None,
    );
    assert_input_error(
        &r,
        "batch with a bad policy",
        &["pols/b.yaml:6:9", "nothing written"],
    );
    assert!(!d.path().join("out").exists());

    // Two policies with one name.
    fs::write(
        d.path().join("pols/b.yaml"),
        text.replace("name: research-hub", "name: hub-a"),
    )
    .unwrap();
    let r = run_in(
        d.path(),
        &["compile", "-q", "pols", "-o", "out/{name}"],
        None,
    );
    assert_input_error(
        &r,
        "batch with a duplicate name",
        &[
            "are both named `hub-a`",
            "pols/b.yaml:6:9",
            "pols/a.yaml:6:9",
        ],
    );
    assert!(!d.path().join("out").exists());

    // Several policies into one directory.
    let r = run_in(d.path(), &["compile", "-q", "pols", "-o", "out"], None);
    assert_input_error(
        &r,
        "batch without {name}",
        &["3 policies would all be written to `out`", "{name}"],
    );

    // A directory with no policies.
    fs::create_dir(d.path().join("nothing")).unwrap();
    let r = run_in(d.path(), &["compile", "nothing"], None);
    assert_input_error(
        &r,
        "empty policy directory",
        &["`nothing` holds no policy files"],
    );
}

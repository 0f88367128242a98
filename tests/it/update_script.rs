//! `scripts/update-chart-data.py` on a small z2jh-like git repository made
//! here: release tags only (pre-releases skipped), descriptions removed from
//! schema nodes only, equal data stored once, `--check` comparing.
//! Skips, saying why, without git or python3 with PyYAML.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

fn have(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn release(dir: &Path, tag: &str, schema: &str, values: &str) {
    let chart = dir.join("jupyterhub");
    std::fs::create_dir_all(&chart).unwrap();
    std::fs::write(chart.join("values.schema.yaml"), schema).unwrap();
    std::fs::write(chart.join("values.yaml"), values).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: jupyterhub\nversion: 0.0.1-set.by.chartpress\nappVersion: \"5.0.0\"\n",
    )
    .unwrap();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", tag, "--allow-empty"]);
    git(dir, &["tag", tag]);
}

#[test]
fn the_update_script_writes_deduplicated_structure_only_data() {
    if !have("git", &["--version"]) || !have("python3", &["-c", "import yaml"]) {
        eprintln!("skipped: needs git and python3 with PyYAML (apt-get install git python3-yaml)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("z2jh");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    let schema = "type: object\ndescription: prose\nadditionalProperties: false\nproperties:\n  hub:\n    type: object\n    description: more prose\n    properties:\n      description: {type: string, description: a key named description}\n      image: {type: object, additionalProperties: {type: string, description: x}}\n";
    let values =
        "# a comment\nhub:\n  description: kept\n  image:\n    tag: \"set-by-chartpress\"\n";
    release(&repo, "4.0.0", schema, values);
    release(&repo, "4.0.1-beta.1", schema, "hub: {}\n");
    release(&repo, "4.0.1", schema, values);
    let out = tmp.path().join("chart-data");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/update-chart-data.py");
    let run = |extra: &[&str]| {
        Command::new("python3")
            .arg(&script)
            .arg(&repo)
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    let o = run(&[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("index.json")).unwrap()).unwrap();
    let releases = index["releases"].as_array().unwrap();
    let versions: Vec<&str> = releases
        .iter()
        .map(|r| r["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["4.0.0", "4.0.1"], "pre-releases are skipped");
    assert_eq!(
        releases[0]["schema"], releases[1]["schema"],
        "equal data stored once"
    );
    assert_eq!(releases[0]["defaults"], releases[1]["defaults"]);
    assert_eq!(std::fs::read_dir(out.join("blobs")).unwrap().count(), 2);
    let blob = |kind: &str| -> serde_json::Value {
        let name = releases[0][kind].as_str().unwrap();
        serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("blobs/{name}.json"))).unwrap(),
        )
        .unwrap()
    };
    let s = blob("schema");
    assert!(s.get("description").is_none() && s["properties"]["hub"].get("description").is_none());
    let key = &s["properties"]["hub"]["properties"]["description"];
    assert_eq!(
        key["type"], "string",
        "a chart key named `description` stays"
    );
    assert!(key.get("description").is_none());
    assert!(
        s["properties"]["hub"]["properties"]["image"]["additionalProperties"]
            .get("description")
            .is_none()
    );
    let d = blob("defaults");
    assert_eq!(d["hub"]["description"], "kept");
    assert_eq!(
        d["hub"]["image"]["tag"], "set-by-chartpress",
        "placeholder kept for sharing"
    );
    // --check: up to date, then stale after a change.
    assert!(run(&["--check"]).status.success());
    std::fs::write(out.join("index.json"), "{}").unwrap();
    let o = run(&["--check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("index.json"));
}

//! Determinism and atomicity: byte-identical output across runs, and output
//! directories that are replaced all at once or not at all.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::fs;
use std::path::Path;

use common::binary::*;

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

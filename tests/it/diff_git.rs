//! `z2jh-policy diff --base-ref`: the old policy and its parents read from git.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::diff_cli::*;
use serde_json::Value;

// ------------------------------------------------------------ git revisions

fn git_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    dir
}

fn git(dir: &Path, args: &[&str]) {
    let s = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        s.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&s.stderr)
    );
}

const CHILD: &str = "apiVersion: z2jh-policy/v1\nkind: HubPolicy\nmetadata: {name: hub, namespace: jhub}\nextends: ../policies/site.yaml\n";

fn diff_in(dir: &Path, args: &[&str]) -> Output {
    bin().args(args).current_dir(dir).output().unwrap()
}

#[test]
fn base_ref_reads_the_policy_and_its_parents_from_git() {
    let repo = git_repo();
    let root = repo.path();
    std::fs::create_dir_all(root.join("policies")).unwrap();
    std::fs::create_dir_all(root.join("hub")).unwrap();
    let site = std::fs::read_to_string("golden/_common/site.yaml").unwrap();
    std::fs::write(root.join("policies/site.yaml"), &site).unwrap();
    std::fs::write(root.join("hub/policy.yaml"), CHILD).unwrap();
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    // The head weakens egress in the child and metadata blocking in the parent.
    std::fs::write(
        root.join("hub/policy.yaml"),
        format!("{CHILD}spec:\n  egress:\n    profile: internet\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("policies/site.yaml"),
        format!("{site}  cloudMetadata:\n    mode: allow\n"),
    )
    .unwrap();
    // Run from a subdirectory: paths are relative to the repository root.
    let o = diff_in(
        &root.join("hub"),
        &[
            "diff",
            "policy.yaml",
            "--base-ref",
            "main",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["before"], "main:hub/policy.yaml");
    let w = weakened(&r);
    assert!(w.contains(&"egress".to_string()), "{w:?}");
    assert!(
        w.contains(&"cloud-metadata".to_string()),
        "the parent is read at the revision too: {w:?}"
    );
    // Against the working tree's own revision after committing: no change.
    git(root, &["commit", "-qam", "head"]);
    let o = diff_in(root, &["diff", "hub/policy.yaml", "--base-ref", "HEAD"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn base_ref_errors_name_the_revision() {
    let repo = git_repo();
    let root = repo.path();
    std::fs::create_dir_all(root.join("policies")).unwrap();
    std::fs::create_dir_all(root.join("hub")).unwrap();
    // At the base revision the policy is broken.
    std::fs::write(
        root.join("hub/policy.yaml"),
        "apiVersion: z2jh-policy/v1\nkind: HubPolicy\nmetadata: {name: hub, namespace: jhub}\nextends: restricted\nspec:\n  egres: {}\n",
    )
    .unwrap();
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    let site = std::fs::read_to_string("golden/_common/site.yaml").unwrap();
    std::fs::write(root.join("policies/site.yaml"), site).unwrap();
    std::fs::write(root.join("hub/policy.yaml"), CHILD).unwrap();
    let o = diff_in(root, &["diff", "hub/policy.yaml", "--base-ref", "main"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("main:hub/policy.yaml:6:3"), "{err}");
    assert!(err.contains("did you mean `egress`"), "{err}");
    // Unknown revisions and option-like ones.
    for rev in ["no-such-branch", "--output=x"] {
        let flag = format!("--base-ref={rev}");
        let o = diff_in(root, &["diff", "hub/policy.yaml", &flag]);
        assert_eq!(o.status.code(), Some(2), "{rev}");
        assert!(stderr(&o).contains("revision"), "{rev}: {}", stderr(&o));
    }
    // Outside a repository.
    let plain = tempfile::tempdir().unwrap();
    let site = std::fs::read_to_string("golden/_common/site.yaml").unwrap();
    std::fs::write(plain.path().join("p.yaml"), site).unwrap();
    let o = diff_in(plain.path(), &["diff", "p.yaml", "--base-ref", "main"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("git repository"), "{}", stderr(&o));
}

#[test]
fn a_policy_new_at_head_is_all_added() {
    let repo = git_repo();
    let root = repo.path();
    std::fs::write(root.join("README"), "hub\n").unwrap();
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    let site = std::fs::read_to_string("golden/_common/site.yaml").unwrap();
    std::fs::write(root.join("hub.yaml"), site).unwrap();
    let o = diff_in(
        root,
        &["diff", "hub.yaml", "--base-ref", "main", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["before"], "main:hub.yaml (absent)");
    assert!(
        r["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["status"] == "added")
    );
    assert!(r["controls"].as_array().unwrap().is_empty());
    let gate = diff_in(
        root,
        &[
            "diff",
            "hub.yaml",
            "--base-ref",
            "main",
            "--fail-on",
            "weaken",
        ],
    );
    assert_eq!(gate.status.code(), Some(0));
}

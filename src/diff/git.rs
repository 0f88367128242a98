//! Reading a policy (and the files it extends) as it was at a git revision,
//! the way a PR bot compares the target branch with the PR head.

use std::path::{Component, Path, PathBuf};
use std::process::Command;

use crate::diag::Diagnostic;
use crate::yaml;

fn git(args: &[&str], cwd: &Path) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(cwd)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Normalises `a/b/../c` without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Writes `policy` as of `rev`, and every policy it extends by path, into
/// `into` (mirroring the repository layout) and returns the copy's path.
pub fn checkout_policy(rev: &str, policy: &Path, into: &Path) -> Result<PathBuf, Diagnostic> {
    let fail = |m: String| Diagnostic::error(m);
    let cwd = std::env::current_dir().map_err(|e| fail(e.to_string()))?;
    let top = String::from_utf8_lossy(
        &git(&["rev-parse", "--show-toplevel"], &cwd)
            .map_err(|e| fail(format!("--base-ref needs a git repository: {e}")))?,
    )
    .trim()
    .to_string();
    let top = PathBuf::from(top);
    let abs = std::fs::canonicalize(policy).unwrap_or_else(|_| cwd.join(policy));
    let rel = abs
        .strip_prefix(&top)
        .map_err(|_| {
            fail(format!(
                "`{}` is not inside the repository at {}",
                policy.display(),
                top.display()
            ))
        })?
        .to_path_buf();
    let mut queue = vec![rel.clone()];
    let mut seen = Vec::new();
    while let Some(path) = queue.pop() {
        if seen.contains(&path) || seen.len() > 16 {
            continue;
        }
        seen.push(path.clone());
        let spec = format!("{rev}:{}", path.display());
        let bytes =
            git(&["show", &spec], &top).map_err(|e| fail(format!("cannot read `{spec}`: {e}")))?;
        let target = into.join(&path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail(e.to_string()))?;
        }
        std::fs::write(&target, &bytes).map_err(|e| fail(e.to_string()))?;
        // Follow `extends` by path; presets need nothing.
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(doc) = yaml::parse(&text)
            && let Some(ext) = doc.value.get("extends").and_then(|v| v.as_str())
            && (ext.contains('/') || ext.ends_with(".yaml") || ext.ends_with(".yml"))
        {
            queue.push(normalize(&path.parent().unwrap_or(Path::new("")).join(ext)));
        }
    }
    Ok(into.join(rel))
}

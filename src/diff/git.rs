//! Policy files as they were at a git revision, the way a PR bot compares
//! the target branch with the PR head.
//!
//! Input: a revision and the policy's path in the working tree. Output: a
//! [`Files`] store for the parser that reads `REF:path` (the path relative
//! to the repository root from `git rev-parse --show-toplevel`), so the
//! policy and every file it `extends` by relative path come from that
//! revision and are named `REF:path` in messages. Presets come from the
//! binary, as always.

use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use crate::diag::Diagnostic;
use crate::parse::Files;
use crate::yaml::MAX_INPUT_BYTES;

/// Runs git in `cwd`; the error is git's own message.
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

/// Like [`git`], but reads at most one byte more than the input limit, so a
/// huge blob costs no more memory than a file that is refused by its size.
fn git_bounded(args: &[&str], cwd: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut child = Command::new("git")
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let mut bytes = Vec::new();
    let read = child
        .stdout
        .take()
        .map(|out| out.take(MAX_INPUT_BYTES as u64 + 1).read_to_end(&mut bytes));
    if bytes.len() > MAX_INPUT_BYTES {
        let _ = child.kill();
        let _ = child.wait();
        return Ok(bytes);
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let status = child.wait().map_err(|e| format!("cannot run git: {e}"))?;
    match read {
        Some(Ok(_)) if status.success() => Ok(bytes),
        Some(Err(e)) => Err(format!("cannot read git's output: {e}")),
        _ => Err(err.trim().to_string()),
    }
}

/// `a/b/../c` → `a/c` without touching the file system; `None` when the
/// path climbs above its start.
fn normalize(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

/// The files of one revision of the repository around the working directory.
pub struct GitRevision {
    rev: String,
    /// The repository root, absolute; paths handed to the parser live under it.
    top: PathBuf,
}

impl GitRevision {
    /// Opens the repository that contains the current directory.
    pub fn open(rev: &str) -> Result<GitRevision, Diagnostic> {
        if rev.is_empty() || rev.starts_with('-') || rev.contains(':') {
            return Err(Diagnostic::error(format!("`{rev}` is not a git revision"))
                .help("give a branch, tag or commit, e.g. `--base-ref origin/main`"));
        }
        let cwd = std::env::current_dir()
            .map_err(|e| Diagnostic::error(format!("cannot read the current directory: {e}")))?;
        let out = git(&["rev-parse", "--show-toplevel"], &cwd).map_err(|e| {
            Diagnostic::error(format!("--base-ref needs a git repository: {e}"))
                .help("run inside the repository's working tree, or compare files with `--base`")
        })?;
        let top = PathBuf::from(String::from_utf8_lossy(&out).trim());
        let top = std::fs::canonicalize(&top).unwrap_or(top);
        let commit = format!("{rev}^{{commit}}");
        git(&["rev-parse", "--verify", "--quiet", &commit], &top).map_err(|_| {
            Diagnostic::error(format!("unknown git revision `{rev}`")).help(
                "fetch it first (in CI: `actions/checkout` with `fetch-depth: 0`, or `git fetch origin main`)",
            )
        })?;
        Ok(GitRevision {
            rev: rev.to_string(),
            top,
        })
    }

    /// The working-tree `policy` as a path this store reads from the revision.
    pub fn locate(&self, policy: &Path) -> Result<PathBuf, Diagnostic> {
        let cwd = std::env::current_dir()
            .map_err(|e| Diagnostic::error(format!("cannot read the current directory: {e}")))?;
        // The policy exists in the working tree (it was just compiled), so
        // canonicalising resolves symlinks the same way git's root did.
        let abs = std::fs::canonicalize(policy).unwrap_or_else(|_| cwd.join(policy));
        self.relative(&abs)?;
        Ok(abs)
    }

    /// Path relative to the repository root, as `git show REF:path` wants it.
    fn relative(&self, abs: &Path) -> Result<PathBuf, Diagnostic> {
        abs.strip_prefix(&self.top)
            .ok()
            .and_then(normalize)
            .ok_or_else(|| {
                Diagnostic::error(format!(
                    "`{}` is outside the git repository at {}",
                    abs.display(),
                    self.top.display()
                ))
                .help("`--base-ref` reads only files of the repository; use `--base` for others")
            })
    }

    /// Whether the revision has a file at the working-tree path `abs`.
    pub fn has(&self, abs: &Path) -> bool {
        self.relative(abs).is_ok_and(|rel| {
            let spec = format!("{}:{}", self.rev, slash(&rel));
            git(&["cat-file", "-e", &spec], &self.top).is_ok()
        })
    }
}

/// Git paths use `/` whatever the platform.
fn slash(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

impl Files for GitRevision {
    fn read(&self, path: &Path) -> Result<String, Diagnostic> {
        let rel = self.relative(path)?;
        let spec = format!("{}:{}", self.rev, slash(&rel));
        // `cat-file blob` prints the stored bytes exactly (no text conversion)
        // and refuses trees, where `git show` would list them.
        let bytes = git_bounded(&["cat-file", "blob", &spec], &self.top).map_err(|e| {
            Diagnostic::error(format!("cannot read `{spec}`: {e}"))
                .help("the file does not exist at that revision")
        })?;
        if bytes.len() > MAX_INPUT_BYTES {
            return Err(Diagnostic::error(format!(
                "`{spec}` is more than {MAX_INPUT_BYTES} bytes; files over {MAX_INPUT_BYTES} bytes are refused"
            )));
        }
        crate::parse::decode(&spec, bytes)
    }
    fn name(&self, path: &Path) -> String {
        match self.relative(path) {
            Ok(rel) => format!("{}:{}", self.rev, slash(&rel)),
            Err(_) => path.display().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_refuses_to_climb_out() {
        assert_eq!(normalize(Path::new("a/b/../c")), Some(PathBuf::from("a/c")));
        assert_eq!(normalize(Path::new("a/../../c")), None);
    }

    #[test]
    fn option_like_revisions_are_refused() {
        assert!(GitRevision::open("--output=/tmp/x").is_err());
        assert!(GitRevision::open("main:secret").is_err());
    }
}

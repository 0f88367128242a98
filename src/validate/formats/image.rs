//! Container image names, tags, digests and registry prefixes.

use super::err;

pub fn image_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 255
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/:".contains(c))
        && !s.starts_with(['/', '.', '-', ':'])
        && !s.ends_with(['/', '.', '-', ':'])
        && !s.contains("//");
    if ok {
        Ok(())
    } else {
        err("an image repository like `quay.io/jupyter/scipy-notebook` (lower case, no tag)")
    }
}

pub fn image_tag(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !s.starts_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        err("an image tag like `2025-01-06` (letters, digits, `.`, `_`, `-`)")
    }
}

pub fn image_digest(s: &str) -> Result<(), String> {
    let ok = s.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    });
    if ok {
        Ok(())
    } else {
        err("a digest `sha256:` followed by 64 lower-case hex digits")
    }
}

/// A registry host, optionally with a repository path, that images may
/// start with; a trailing `/` changes nothing.
pub fn image_prefix(s: &str) -> Result<(), String> {
    match image_name(s.strip_suffix('/').unwrap_or(s)) {
        Ok(()) if !s.contains('@') => Ok(()),
        _ => err(
            "an image prefix like `quay.io/jupyter` or `registry.example.org/` (lower case, no tag or digest)",
        ),
    }
}

/// `image` starts with `prefix` on a whole path segment: the prefix is the
/// whole repository, or followed by `/`, `:` (a tag or a port) or `@`.
pub fn image_has_prefix(image: &str, prefix: &str) -> bool {
    let p = prefix.trim_end_matches('/');
    image
        .strip_prefix(p)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', ':', '@']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_prefixes_match_whole_segments() {
        assert!(image_prefix("quay.io/jupyter").is_ok());
        assert!(image_prefix("registry.example.org/").is_ok());
        assert!(image_prefix("quay.io/Jupyter").is_err());
        assert!(image_prefix("quay.io/jupyter@sha256").is_err());
        assert!(image_has_prefix(
            "quay.io/jupyter/scipy:1",
            "quay.io/jupyter"
        ));
        assert!(image_has_prefix(
            "quay.io/jupyter/scipy:1",
            "quay.io/jupyter/"
        ));
        assert!(image_has_prefix("quay.io/jupyter:1", "quay.io/jupyter"));
        assert!(!image_has_prefix(
            "quay.io/jupyter-evil/x:1",
            "quay.io/jupyter"
        ));
        assert!(!image_has_prefix("quay.io.evil.org/jupyter/x", "quay.io"));
    }
}

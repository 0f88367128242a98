//! Kubernetes object, label and annotation names; StorageClass fields; profile and hub user names.

use super::{err, printable};

/// DNS-1123 label: namespaces, service accounts, most object names.
pub fn k8s_name(s: &str) -> Result<(), String> {
    const EXPECTED: &str = "a DNS-1123 label: at most 63 lower-case letters, digits and `-`, starting and ending with a letter or digit";
    if s.is_empty() || s.len() > 63 {
        return err(EXPECTED);
    }
    let ok = s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok { Ok(()) } else { err(EXPECTED) }
}

/// DNS-1123 subdomain: StorageClass and Secret names.
pub fn k8s_subdomain(s: &str) -> Result<(), String> {
    const EXPECTED: &str =
        "a DNS-1123 subdomain: at most 253 characters, dot-separated DNS-1123 labels";
    if s.is_empty() || s.len() > 253 {
        return err(EXPECTED);
    }
    if s.split('.').all(|l| k8s_name(l).is_ok()) {
        Ok(())
    } else {
        err(EXPECTED)
    }
}

pub fn profile_name(s: &str) -> Result<(), String> {
    printable(s)?;
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
        && !s.starts_with('/')
        && !s.split('/').any(|p| p == "..");
    if ok {
        Ok(())
    } else {
        err(
            "a profile name or relative path of letters, digits, `.`, `_`, `-` and `/` (no `..`, not absolute)",
        )
    }
}

pub fn provisioner(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
        && !s.starts_with(['/', '.', '-'])
        && !s.ends_with(['/', '.', '-']);
    if ok {
        Ok(())
    } else {
        err(
            "a provisioner name like `ebs.csi.aws.com` or `cluster.local/nfs-subdir-external-provisioner`",
        )
    }
}

/// A StorageClass parameter name (`type`, `csi.storage.k8s.io/fstype`).
pub fn parameter_key(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c));
    if ok {
        Ok(())
    } else {
        err(
            "a parameter name of at most 253 letters, digits, `.`, `_`, `/` and `-`, like `type` or `csi.storage.k8s.io/fstype`",
        )
    }
}

/// A Kubernetes annotation or label key: an optional DNS subdomain prefix and
/// `/`, then a name of at most 63 letters, digits, `-`, `_` and `.`, starting
/// and ending with a letter or digit.
pub fn qualified_name(s: &str) -> Result<(), String> {
    const EXPECTED: &str = "an annotation key like `cert-manager.io/cluster-issuer`: an optional DNS subdomain and `/`, then at most 63 letters, digits, `-`, `_` and `.`";
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if name_ok && prefix.is_none_or(|p| k8s_subdomain(p).is_ok()) {
        Ok(())
    } else {
        err(EXPECTED)
    }
}

/// A label value: empty, or at most 63 letters, digits, `-`, `_` and `.`,
/// starting and ending with a letter or digit.
pub fn label_value(s: &str) -> Result<(), String> {
    const EXPECTED: &str = "a label value: at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit";
    let ok = s.is_empty()
        || (s.len() <= 63
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
    if ok { Ok(()) } else { err(EXPECTED) }
}

/// A JupyterHub user or group name as an allow list holds it: no blanks,
/// which JupyterHub never produces, so a name with one could never match.
pub fn hub_name(s: &str) -> Result<(), String> {
    const EXPECTED: &str =
        "a JupyterHub user or group name: 1 to 255 characters, no spaces or control characters";
    if s.is_empty() || s.len() > 255 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return err(EXPECTED);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_keys() {
        for ok in [
            "a",
            "cert-manager.io/cluster-issuer",
            "nginx.ingress.kubernetes.io/proxy-body-size",
            "A_b.c",
        ] {
            assert!(qualified_name(ok).is_ok(), "{ok:?}");
        }
        let long = "a".repeat(64);
        for bad in [
            "",
            "/a",
            "a/",
            "a/b/c",
            "-a",
            "a-",
            "Bad_Prefix/x",
            "a b",
            "a\nb",
            long.as_str(),
        ] {
            assert!(qualified_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names() {
        assert!(k8s_name("jhub-1").is_ok());
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", &"a".repeat(64), "a\nb"] {
            assert!(k8s_name(bad).is_err(), "{bad:?}");
        }
        assert!(k8s_subdomain("jupyter.user-block").is_ok());
        assert!(k8s_subdomain("a..b").is_err());
    }
}

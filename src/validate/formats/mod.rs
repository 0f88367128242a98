//! Deep checks of string values, referenced from the policy schema as custom
//! `format`s so they are reported in the same pass as type errors.
//!
//! Each check returns `Err(expected)` — a phrase saying what a valid value
//! looks like — which the caller turns into a located diagnostic. The
//! checks and the domain types they parse live in one submodule per kind of
//! value; this module lists them and holds the version and text checks.

mod cloud_identity;
mod hosts;
mod image;
mod names;
mod net;
mod quantity;
mod sub_path;

pub use cloud_identity::{CloudIdentity, cloud_identity};
pub use hosts::{email, fqdn_name, fqdn_pattern, frame_ancestor, host, hostname, https_url};
pub use image::{image_digest, image_has_prefix, image_name, image_prefix, image_tag};
pub use names::{
    hub_name, k8s_name, k8s_subdomain, label_value, parameter_key, profile_name, provisioner,
    qualified_name,
};
pub use net::{Cidr, cidr, cidr_contains, ipv4, parse_cidr};
pub use quantity::{binary_quantity, cpu, quantity, quantity_value};
pub use sub_path::{
    SUB_PATH_OTHER_FIELDS, SUB_PATH_USER_FIELDS, abs_path, rel_path, sub_path, sub_path_fields,
};

/// A format check: `Err` holds what a valid value looks like.
pub type Check = fn(&str) -> Result<(), String>;

/// Every custom format the policy schema uses, with its check.
pub const FORMATS: &[(&str, Check)] = &[
    ("chart-version", chart_version),
    ("kubernetes-version", kubernetes_version),
    ("k8s-name", k8s_name),
    ("k8s-subdomain", k8s_subdomain),
    ("psa-version", psa_version),
    ("ipv4", ipv4),
    ("cidr", cidr),
    ("profile-name", profile_name),
    ("quantity", quantity),
    ("binary-quantity", binary_quantity),
    ("cpu", cpu),
    ("provisioner", provisioner),
    ("host", host),
    ("hostname", hostname),
    ("fqdn-name", fqdn_name),
    ("fqdn-pattern", fqdn_pattern),
    ("abs-path", abs_path),
    ("rel-path", rel_path),
    ("email", email),
    ("https-url", https_url),
    ("image-name", image_name),
    ("image-tag", image_tag),
    ("image-digest", image_digest),
    ("image-prefix", image_prefix),
    ("anchored-regex", anchored_regex),
    ("parameter-key", parameter_key),
    ("qualified-name", qualified_name),
    ("label-value", label_value),
    ("cloud-identity", cloud_identity),
    ("sub-path", sub_path),
    ("frame-ancestor", frame_ancestor),
    ("hub-name", hub_name),
    ("calendar-date", date),
    ("one-line-text", one_line_text),
];

/// A calendar day, `YYYY-MM-DD`.
pub fn date(s: &str) -> Result<(), String> {
    crate::exceptions::Date::parse(s).map(|_| ())
}

/// Words on one line: not blank, no control characters (they end up in
/// reports and SARIF justifications).
pub fn one_line_text(s: &str) -> Result<(), String> {
    const EXPECTED: &str = "text on one line, not blank";
    printable(s).map_err(|_| EXPECTED.to_string())?;
    // Line and paragraph separators break lines for YAML 1.1 readers (Helm),
    // and the owner is written into a comment of the admission manifest.
    if s.trim().is_empty() || s.len() > 1000 || s.contains(['\u{2028}', '\u{2029}']) {
        return err(EXPECTED);
    }
    Ok(())
}

fn err<T>(msg: &str) -> Result<T, String> {
    Err(msg.to_string())
}

/// Rejects control characters, which no field of the language needs and
/// which would make diagnostics and generated files misleading.
fn printable(s: &str) -> Result<(), String> {
    if s.chars().any(char::is_control) {
        return err("a value without control characters (newlines, tabs, escapes)");
    }
    Ok(())
}

pub fn chart_version(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.split('.').collect();
    let numeric = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() < 6 && p.chars().all(|c| c.is_ascii_digit()));
    if !numeric {
        return err("a chart version like `4.4.0` or `3.3.8`");
    }
    // The lines are those of the embedded releases.
    let known = crate::chart::releases::all()
        .iter()
        .any(|r| r.number().major.to_string() == parts[0]);
    if known {
        Ok(())
    } else {
        err("a chart version of the 3.x or 4.x line (e.g. `4.4.0`)")
    }
}

/// Parses `1.30` (optionally `v1.30`) into the minor number.
pub fn kubernetes_minor(s: &str) -> Option<u32> {
    let s = s.strip_prefix('v').unwrap_or(s);
    let (major, minor) = s.split_once('.')?;
    if major != "1"
        || minor.is_empty()
        || minor.len() > 3
        || !minor.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    minor.parse().ok()
}

pub fn kubernetes_version(s: &str) -> Result<(), String> {
    match kubernetes_minor(s) {
        Some(m) if (23..=99).contains(&m) => Ok(()),
        Some(_) => err("a Kubernetes version from `1.23` on (e.g. `1.30`)"),
        None => err("a Kubernetes minor version like `1.30`"),
    }
}

pub fn psa_version(s: &str) -> Result<(), String> {
    if s == "latest" || s == "auto" {
        return Ok(());
    }
    match s.strip_prefix('v').and_then(kubernetes_minor) {
        Some(_) => Ok(()),
        None => err("`auto`, `latest` or a pinned version like `v1.30`"),
    }
}

/// A regular expression that only whole values can match. KubeSpawner
/// checks a typed choice with Python's `re.match`, which anchors the start
/// only: without `$` every text that begins with a match passes.
pub fn anchored_regex(s: &str) -> Result<(), String> {
    printable(s)?;
    match regex_anchors(s) {
        Err(why) => Err(format!(
            "a regular expression (Python `re` and RE2 syntax, no look-around or back-references); this one does not parse: {why}"
        )),
        Ok((true, true)) => Ok(()),
        Ok(_) => err(
            "a pattern anchored at both ends, `^…$` (on every alternative): KubeSpawner checks typed values with Python's `re.match`, which anchors only the start, so without `$` any text after a matching prefix passes",
        ),
    }
}

/// Whether every match of `re` starts at the start and ends at the end of
/// the text, or why `re` does not parse.
pub fn regex_anchors(re: &str) -> Result<(bool, bool), String> {
    use regex_syntax::hir::Look;
    let hir = regex_syntax::Parser::new().parse(re).map_err(|e| match e {
        regex_syntax::Error::Parse(e) => e.kind().to_string(),
        regex_syntax::Error::Translate(e) => e.kind().to_string(),
        other => other.to_string(),
    })?;
    let props = hir.properties();
    Ok((
        props.look_set_prefix().contains(Look::Start),
        props.look_set_suffix().contains(Look::End),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_must_be_anchored_on_every_alternative() {
        assert!(anchored_regex(r"^quay\.io/jupyter/[a-z-]+:[0-9.]+$").is_ok());
        assert!(anchored_regex(r"\Aquay\.io/.+\z").is_ok());
        assert!(anchored_regex(r"^(a|b)$").is_ok());
        // `^a|b$` is `(^a)|(b$)`: neither end is anchored for every match.
        assert!(anchored_regex(r"^a|b$").is_err());
        assert!(anchored_regex(r"^quay\.io/.+").is_err());
        assert!(anchored_regex(r"(?m)^a$").is_err());
        let bad = anchored_regex(r"^(quay$").unwrap_err();
        assert!(bad.contains("does not parse"), "{bad}");
        assert_eq!(regex_anchors("quay.io/.*$"), Ok((false, true)));
    }

    #[test]
    fn hosts_and_emails() {
        assert!(hostname("hub.example.org").is_ok());
        assert!(hostname("localhost").is_err());
        assert!(hostname("hub.example.org\nx: y").is_err());
        assert!(email("admin@example.org").is_ok());
        assert!(email("admin@").is_err());
        assert!(email("a b@example.org").is_err());
        assert!(host("10.1.2.3").is_ok());
        assert!(abs_path("/exports/home").is_ok());
        assert!(abs_path("/exports/../etc").is_err());
        assert!(abs_path("exports").is_err());
    }

    #[test]
    fn versions_and_images() {
        assert!(chart_version("4.4.0").is_ok());
        assert!(chart_version("2.0.0").is_err());
        assert!(chart_version("4.4").is_err());
        assert_eq!(kubernetes_minor("1.30"), Some(30));
        assert!(kubernetes_version("1.2").is_err());
        assert!(psa_version("v1.30").is_ok());
        assert!(psa_version("1.30").is_err());
        assert!(image_digest(&format!("sha256:{}", "a".repeat(64))).is_ok());
        assert!(image_digest("sha256:abc").is_err());
        assert!(image_name("quay.io/jupyter/scipy-notebook").is_ok());
        assert!(image_name("Quay.io/x").is_err());
        assert!(image_tag("2025-01-06").is_ok());
        assert!(image_tag("a:b").is_err());
    }
}

//! Deep checks of string values, referenced from the policy schema as custom
//! `format`s so they are reported in the same pass as type errors.
//!
//! Each check returns `Err(expected)` — a phrase saying what a valid value
//! looks like — which the caller turns into a located diagnostic.

use std::net::{Ipv4Addr, Ipv6Addr};

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

pub fn psa_version(s: &str) -> Result<(), String> {
    if s == "latest" || s == "auto" {
        return Ok(());
    }
    match s.strip_prefix('v').and_then(kubernetes_minor) {
        Some(_) => Ok(()),
        None => err("`auto`, `latest` or a pinned version like `v1.30`"),
    }
}

pub fn ipv4(s: &str) -> Result<(), String> {
    s.parse::<Ipv4Addr>()
        .map(|_| ())
        .map_err(|_| "an IPv4 address like `169.254.169.254`".to_string())
}

/// A parsed CIDR: the address as the high bits of a `u128` (an IPv4 address
/// in the top 32), so one prefix mask serves both families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub v6: bool,
    bits: u128,
    pub len: u8,
}

impl Cidr {
    fn mask(self) -> u128 {
        if self.len == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(self.len))
        }
    }
    /// The network address as text (host bits cleared).
    fn network(self) -> String {
        let net = self.bits & self.mask();
        if self.v6 {
            Ipv6Addr::from(net).to_string()
        } else {
            Ipv4Addr::from((net >> 96) as u32).to_string()
        }
    }
}

/// Parses an IPv4 or IPv6 CIDR (`10.0.0.0/8`, `2001:db8::/32`).
pub fn parse_cidr(s: &str) -> Option<Cidr> {
    let (addr, len) = s.split_once('/')?;
    if len.is_empty() || len.len() > 3 || !len.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let len: u8 = len.parse().ok()?;
    if let Ok(a) = addr.parse::<Ipv4Addr>() {
        return (len <= 32).then_some(Cidr {
            v6: false,
            bits: u128::from(u32::from(a)) << 96,
            len,
        });
    }
    // Only the plain form: no zone (`%eth0`) and no IPv4-mapped dotted tail.
    let a: Ipv6Addr = addr.parse().ok()?;
    (len <= 128 && !addr.contains('.')).then_some(Cidr {
        v6: true,
        bits: u128::from(a),
        len,
    })
}

pub fn cidr(s: &str) -> Result<(), String> {
    let Some(c) = parse_cidr(s) else {
        return err(
            "a CIDR like `10.0.0.0/8` or `2001:db8::/32` (address/prefix length, 0-32 for IPv4, 0-128 for IPv6)",
        );
    };
    if c.bits & !c.mask() != 0 {
        return Err(format!(
            "a CIDR whose host bits are zero (did you mean `{}/{}`?)",
            c.network(),
            c.len
        ));
    }
    Ok(())
}

/// True when `inner` lies entirely inside `outer` (never across families).
pub fn cidr_contains(outer: &str, inner: &str) -> bool {
    match (parse_cidr(outer), parse_cidr(inner)) {
        (Some(o), Some(i)) => {
            o.v6 == i.v6 && i.len >= o.len && (o.bits & o.mask()) == (i.bits & o.mask())
        }
        _ => false,
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

/// Splits a Kubernetes quantity into its number and suffix.
fn split_quantity(s: &str) -> Option<(&str, &str)> {
    let idx = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(idx);
    let valid_num = !num.is_empty()
        && num.chars().filter(|&c| c == '.').count() <= 1
        && num != "."
        && num.len() <= 15;
    valid_num.then_some((num, suffix))
}

/// Value of a quantity in its base unit (bytes, cores, bits/s).
pub fn quantity_value(s: &str) -> Option<f64> {
    let (num, suffix) = split_quantity(s)?;
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "Pi" => 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(n * mult)
}

pub fn quantity(s: &str) -> Result<(), String> {
    match quantity_value(s) {
        Some(v) if v > 0.0 => Ok(()),
        Some(_) => err("a quantity greater than zero"),
        None => err("a Kubernetes quantity like `10Gi`, `512Mi` or `50M`"),
    }
}

/// Memory and storage sizes for user pods: binary suffixes only, because
/// KubeSpawner reads `4G` as 4 GiB while Kubernetes reads it as 4 GB.
pub fn binary_quantity(s: &str) -> Result<(), String> {
    let Some((_, suffix)) = split_quantity(s) else {
        return err("a binary quantity like `512Mi` or `4Gi`");
    };
    match suffix {
        "" | "Ki" | "Mi" | "Gi" | "Ti" => quantity(s),
        "k" | "K" | "M" | "G" | "T" => {
            let num = &s[..s.len() - suffix.len()];
            let binary = format!("{num}{}i", suffix.to_uppercase());
            Err(format!(
                "a binary quantity like `{binary}` (Kubernetes reads `{s}` in powers of 1000, KubeSpawner in powers of 1024; the `i` form means the same to both)"
            ))
        }
        _ => err("a binary quantity like `512Mi` or `4Gi`"),
    }
}

pub fn cpu(s: &str) -> Result<(), String> {
    let Some((_, suffix)) = split_quantity(s) else {
        return err("CPU cores as a number (`0.5`) or millicores (`500m`)");
    };
    match suffix {
        "" | "m" => quantity(s),
        _ => err("CPU cores as a number (`0.5`) or millicores (`500m`)"),
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

pub fn hostname(s: &str) -> Result<(), String> {
    const EXPECTED: &str =
        "a DNS host name like `hub.example.org` (letters, digits, `-`, dot-separated)";
    if s.is_empty() || s.len() > 253 {
        return err(EXPECTED);
    }
    let ok = s.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    });
    if ok && s.contains('.') {
        Ok(())
    } else {
        err(EXPECTED)
    }
}

/// A host name Cilium's `matchName` can select: a DNS name whose last
/// label is not numeric (so never an IP address, which DNS does not
/// resolve and `toCIDR` expresses).
pub fn fqdn_name(s: &str) -> Result<(), String> {
    const EXPECTED: &str = "a fully qualified host name like `pypi.org` (not an IP address; list addresses in `egress.allow`)";
    let tld_ok = s
        .rsplit('.')
        .next()
        .is_some_and(|l| !l.chars().all(|c| c.is_ascii_digit()));
    if hostname(s).is_ok() && tld_ok && s.parse::<std::net::IpAddr>().is_err() {
        Ok(())
    } else {
        err(EXPECTED)
    }
}

/// A wildcard Cilium's `matchPattern` accepts, narrowed to the one form
/// whose reach is plain: `*` as the whole leftmost label of a domain of at
/// least two labels. Cilium's `*` never crosses a dot, so `*.example.com`
/// matches `a.example.com`, not `example.com` nor `a.b.example.com`.
pub fn fqdn_pattern(s: &str) -> Result<(), String> {
    const EXPECTED: &str = "`*.` and a domain of at least two labels, like `*.githubusercontent.com` (`*` only as the whole leftmost label)";
    match s.strip_prefix("*.") {
        Some(domain) if !domain.contains('*') && fqdn_name(domain).is_ok() => Ok(()),
        _ => err(EXPECTED),
    }
}

/// A `frame-ancestors` source a policy may list: `self`, or an `https://`
/// origin. Anything else (a scheme alone, `*`, a path, a quote) would
/// widen or break the header it is written into.
pub fn frame_ancestor(s: &str) -> Result<(), String> {
    const EXPECTED: &str = "`self` or an https origin like `https://lms.example.org` or `https://lms.example.org:8443` (no path, no wildcard)";
    if s == "self" {
        return Ok(());
    }
    let Some(rest) = s.strip_prefix("https://") else {
        return err(EXPECTED);
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    if hostname(host).is_ok() && port_ok {
        Ok(())
    } else {
        err(EXPECTED)
    }
}

pub fn host(s: &str) -> Result<(), String> {
    if ipv4(s).is_ok() || hostname(s).is_ok() {
        Ok(())
    } else {
        err("a host name like `nfs.example.org` or an IPv4 address")
    }
}

pub fn abs_path(s: &str) -> Result<(), String> {
    printable(s)?;
    let ok = s.starts_with('/')
        && s.len() <= 1024
        && !s.split('/').any(|p| p == "..")
        && !s.contains(['"', '\'', '\\']);
    if ok {
        Ok(())
    } else {
        err("an absolute path like `/exports/home` (no `..`, no quotes)")
    }
}

pub fn rel_path(s: &str) -> Result<(), String> {
    printable(s)?;
    if s.is_empty() || s.len() > 1024 {
        return err("a file path relative to the policy file");
    }
    Ok(())
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

pub fn email(s: &str) -> Result<(), String> {
    const EXPECTED: &str = "an e-mail address like `admin@example.org`";
    let Some((local, domain)) = s.split_once('@') else {
        return err(EXPECTED);
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&*+-/=?^_`{|}~.".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.');
    if local_ok && hostname(domain).is_ok() {
        Ok(())
    } else {
        err(EXPECTED)
    }
}

pub fn https_url(s: &str) -> Result<(), String> {
    printable(s)?;
    let Some(rest) = s.strip_prefix("https://") else {
        return err("an https:// URL");
    };
    let host = rest.split(['/', ':']).next().unwrap_or("");
    if hostname(host).is_ok() && !s.contains(char::is_whitespace) {
        Ok(())
    } else {
        err("an https:// URL with a valid host name")
    }
}

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

/// The kind of cloud identity a string names, by its form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudIdentity {
    /// A Google IAM service account email (`name@project.iam.gserviceaccount.com`).
    GoogleServiceAccount,
    /// An AWS IAM role ARN (`arn:aws:iam::123456789012:role/name`).
    AwsRole,
    /// An Azure client ID (a GUID).
    AzureClientId,
}

impl CloudIdentity {
    pub fn of(s: &str) -> Option<CloudIdentity> {
        if google_service_account(s) {
            Some(CloudIdentity::GoogleServiceAccount)
        } else if aws_role_arn(s) {
            Some(CloudIdentity::AwsRole)
        } else if guid(s) {
            Some(CloudIdentity::AzureClientId)
        } else {
            None
        }
    }

    /// What a valid value looks like, for messages.
    pub fn expected(self) -> &'static str {
        match self {
            CloudIdentity::GoogleServiceAccount => {
                "an IAM service account email like `hub-users@my-project.iam.gserviceaccount.com`"
            }
            CloudIdentity::AwsRole => {
                "an IAM role ARN like `arn:aws:iam::123456789012:role/hub-users`"
            }
            CloudIdentity::AzureClientId => {
                "a managed identity's client ID like `00000000-0000-0000-0000-000000000000`"
            }
        }
    }
}

fn google_service_account(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    label(local)
        && domain
            .strip_suffix("gserviceaccount.com")
            .and_then(|d| d.strip_suffix('.'))
            .is_some_and(|d| d.split('.').all(label))
}

fn aws_role_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    let name_char = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    let Some(path) = resource.strip_prefix("role/") else {
        return false;
    };
    let segments: Vec<&str> = path.split('/').collect();
    let name = segments.last().copied().unwrap_or_default();
    arn == "arn"
        && partition.starts_with("aws")
        && partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-')
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && !name.is_empty()
        && name.len() <= 64
        && path.len() <= 576
        && segments
            .iter()
            .all(|seg| !seg.is_empty() && seg.chars().all(name_char))
}

fn guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A cloud identity of any provider: which one the provider needs is
/// checked when the policy is compiled.
pub fn cloud_identity(s: &str) -> Result<(), String> {
    match CloudIdentity::of(s) {
        Some(_) => Ok(()),
        None => err(
            "an IAM service account email (GKE), an IAM role ARN (EKS) or a managed identity's client ID (AKS)",
        ),
    }
}

/// KubeSpawner template fields that name the user (or the user's server),
/// on any chart line; which line has which is checked on compile.
pub const SUB_PATH_USER_FIELDS: &[&str] = &[
    "username",
    "userid",
    "safe_username",
    "escaped_username",
    "legacy_escape_username",
    "user_server",
    "safe_user_server",
    "escaped_user_server",
];

/// Other fields a subPath may use (they do not name the user).
pub const SUB_PATH_OTHER_FIELDS: &[&str] = &[
    "servername",
    "safe_servername",
    "escaped_servername",
    "hubnamespace",
];

/// The `{field}`s of a subPath template, in order, or why it is not one:
/// literal parts are letters, digits, `.`, `_` and `-`.
pub fn sub_path_fields(s: &str) -> Result<Vec<&str>, String> {
    const EXPECTED: &str = "a relative path of letters, digits, `.`, `_`, `-` and KubeSpawner fields naming the user, like `{username}` or `home/{username}`";
    if s.is_empty() || s.len() > 255 || s.starts_with('/') || s.ends_with('/') {
        return err(EXPECTED);
    }
    let mut fields = Vec::new();
    for segment in s.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return err(EXPECTED);
        }
        let mut rest = segment;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let Some((field, tail)) = after.split_once('}') else {
                    return err(EXPECTED);
                };
                if field.starts_with("unescaped_") {
                    return err(
                        "a subPath without `{unescaped_…}` fields: raw names are not escaped, so whatever the authenticator allows in a name (`/`, `..`) reaches the path",
                    );
                }
                if !SUB_PATH_USER_FIELDS.contains(&field) && !SUB_PATH_OTHER_FIELDS.contains(&field)
                {
                    return err(EXPECTED);
                }
                fields.push(field);
                rest = tail;
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                if !rest[..end]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                {
                    return err(EXPECTED);
                }
                rest = &rest[end..];
            }
        }
    }
    if !fields.iter().any(|f| SUB_PATH_USER_FIELDS.contains(f)) {
        return err(
            "a subPath with a field naming the user, like `{username}`: without one every user gets the same directory",
        );
    }
    Ok(fields)
}

pub fn sub_path(s: &str) -> Result<(), String> {
    sub_path_fields(s).map(|_| ())
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
    fn cloud_identities() {
        use CloudIdentity::*;
        for (s, kind) in [
            (
                "hub-users@my-project.iam.gserviceaccount.com",
                GoogleServiceAccount,
            ),
            (
                "123-compute@developer.gserviceaccount.com",
                GoogleServiceAccount,
            ),
            ("arn:aws:iam::123456789012:role/hub-users", AwsRole),
            (
                "arn:aws-us-gov:iam::123456789012:role/team/hub_users+x",
                AwsRole,
            ),
            ("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", AzureClientId),
        ] {
            assert_eq!(CloudIdentity::of(s), Some(kind), "{s:?}");
        }
        for bad in [
            "",
            "hub-users@example.org",
            "hub users@p.iam.gserviceaccount.com",
            "x@.gserviceaccount.com",
            "arn:aws:iam::12345678901:role/x",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/a\nb: c",
            "arn:aws:iam::123456789012:role/x\"y",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n",
        ] {
            assert!(cloud_identity(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn frame_ancestors_are_self_or_https_origins() {
        for ok in [
            "self",
            "https://lms.example.org",
            "https://lms.example.org:8443",
        ] {
            assert!(frame_ancestor(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "'self'",
            "*",
            "https:",
            "http://lms.example.org",
            "https://*.example.org",
            "https://lms.example.org/path",
            "https://lms.example.org:0",
            "https://lms.example.org; script-src *",
            "https://lms.example.org 'unsafe-inline'",
        ] {
            assert!(frame_ancestor(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sub_paths() {
        assert_eq!(sub_path_fields("{username}"), Ok(vec!["username"]));
        assert_eq!(
            sub_path_fields("home/{escaped_username}-{servername}"),
            Ok(vec!["escaped_username", "servername"])
        );
        assert!(sub_path("users/{userid}").is_ok());
        for bad in [
            "",
            "/home/{username}",
            "home/",
            "home//{username}",
            "../{username}",
            "home/./{username}",
            "shared",
            "{servername}",
            "{unescaped_username}",
            "{username",
            "{user}",
            "{username:>10}",
            "home dir/{username}",
            "{username}\n",
        ] {
            assert!(sub_path(bad).is_err(), "{bad:?}");
        }
    }

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

    #[test]
    fn cidrs() {
        assert!(cidr("10.0.0.0/8").is_ok());
        assert!(cidr("0.0.0.0/0").is_ok());
        assert!(cidr("10.0.0.1/32").is_ok());
        assert!(cidr("10.0.0.0/33").is_err());
        assert!(cidr("10.0.0.0").is_err());
        assert!(cidr("10.0.0.0/+8").is_err());
        assert!(cidr("300.0.0.0/8").is_err());
        assert!(cidr("10.1.0.0/8").unwrap_err().contains("10.0.0.0/8"));
        assert!(cidr_contains("10.0.0.0/8", "10.2.0.0/16"));
        assert!(cidr("2001:db8::/32").is_ok());
        assert!(cidr("::/0").is_ok());
        assert!(cidr("fd00:ec2::254/128").is_ok());
        assert!(
            cidr("2001:db8::1/32")
                .unwrap_err()
                .contains("`2001:db8::/32`")
        );
        assert!(cidr("2001:db8::/129").is_err());
        assert!(cidr("fe80::1%eth0/64").is_err());
        assert!(cidr("::ffff:10.0.0.0/104").is_err());
        assert!(cidr_contains("2001:db8::/32", "2001:db8:1::/48"));
        assert!(!cidr_contains("2001:db8::/32", "2001:db9::/48"));
        assert!(!cidr_contains("0.0.0.0/0", "::/0"));
        assert!(!cidr_contains("::/0", "10.0.0.0/8"));
        assert!(!cidr_contains("10.0.0.0/16", "10.2.0.0/16"));
    }

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
    fn quantities() {
        assert!(quantity("10Gi").is_ok());
        assert!(quantity("50M").is_ok());
        assert!(quantity("0").is_err());
        assert!(quantity("1.2.3Gi").is_err());
        assert!(quantity("10 Gi").is_err());
        assert!(binary_quantity("4Gi").is_ok());
        assert!(binary_quantity("4G").unwrap_err().contains("4Gi"));
        assert!(cpu("500m").is_ok());
        assert!(cpu("2").is_ok());
        assert!(cpu("2Gi").is_err());
        assert_eq!(quantity_value("512Mi"), Some(536870912.0));
        assert_eq!(quantity_value("500m"), Some(0.5));
    }

    #[test]
    fn fqdn_names_and_patterns() {
        assert!(fqdn_name("pypi.org").is_ok());
        assert!(fqdn_name("files.pythonhosted.org").is_ok());
        assert!(fqdn_name("1.2.3.4").is_err());
        assert!(fqdn_name("pypi").is_err());
        assert!(fqdn_name("*.pypi.org").is_err());
        assert!(fqdn_pattern("*.githubusercontent.com").is_ok());
        assert!(fqdn_pattern("*").is_err());
        assert!(fqdn_pattern("*.com").is_err());
        assert!(fqdn_pattern("a*.example.com").is_err());
        assert!(fqdn_pattern("*.*.example.com").is_err());
        assert!(fqdn_pattern("foo.*.example.com").is_err());
        assert!(fqdn_pattern("*.10.0.0.1").is_err());
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

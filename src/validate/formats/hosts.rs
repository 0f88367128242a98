//! Host names, Cilium FQDN names and patterns, e-mail addresses and HTTPS origins and URLs.

use super::net::ipv4;
use super::{err, printable};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}

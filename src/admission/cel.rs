//! Building CEL text for admission validations. Everything a policy
//! supplies enters an expression through [`string`], so no policy value can
//! end a literal and add CEL of its own.
//!
//! Only standard CEL (`has`, `all`, `in`, `size`, `startsWith`, `matches`)
//! and the Kubernetes quantity library (`quantity`, `isQuantity`,
//! `isGreaterThan`) are used: all of it is in every 1.30 API server.

/// A CEL string literal that evaluates to exactly `s`: quotes and
/// backslashes escaped, everything outside printable ASCII as `\u`/`\U`.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// A CEL list of string literals.
pub fn strings<S: AsRef<str>>(items: &[S]) -> String {
    let inner: Vec<String> = items.iter().map(|s| string(s.as_ref())).collect();
    format!("[{}]", inner.join(", "))
}

/// The container lists of a pod an expression walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lists {
    /// containers, initContainers and ephemeralContainers.
    All,
    /// containers and initContainers: ephemeral containers cannot carry
    /// resources, so limits are asked of the others only.
    WithResources,
}

/// `pred` (over `c`) holds for every container of the pod in `lists`; an
/// init container matching `exempt` (over `c`) is skipped. Each list is
/// walked on its own: the three have different schema types, which the
/// API server's type checker would refuse to concatenate.
pub fn every_container(lists: Lists, pred: &str, exempt: Option<&str>) -> String {
    let init = match exempt {
        Some(x) => format!("({x}) || ({pred})"),
        None => pred.to_string(),
    };
    let mut parts = vec![
        format!("object.spec.containers.all(c, {pred})"),
        format!("(!has(object.spec.initContainers) || object.spec.initContainers.all(c, {init}))"),
    ];
    if lists == Lists::All {
        parts.push(format!(
            "(!has(object.spec.ephemeralContainers) || object.spec.ephemeralContainers.all(c, {pred}))"
        ));
    }
    parts.join(" && ")
}

/// A security-context field as the kubelet applies it: the container's,
/// else the pod's (for fields the pod context has), else `unset`.
/// `test` receives the path of the field that is set.
pub fn context_field(
    field: &str,
    pod_level: bool,
    test: impl Fn(&str) -> String,
    unset: &str,
) -> String {
    let own = format!("c.securityContext.{field}");
    let fallback = if pod_level {
        let pod = format!("object.spec.securityContext.{field}");
        format!(
            "((has(object.spec.securityContext) && has({pod})) ? ({}) : {unset})",
            test(&pod)
        )
    } else {
        unset.to_string()
    };
    format!(
        "((has(c.securityContext) && has({own})) ? ({}) : {fallback})",
        test(&own)
    )
}

/// `true` when the container's own security context has `path` (dotted,
/// below `securityContext`) and it satisfies `test`.
pub fn own_field(path: &str, test: impl Fn(&str) -> String) -> String {
    let mut guard = vec!["has(c.securityContext)".to_string()];
    let mut at = "c.securityContext".to_string();
    for part in path.split('.') {
        at = format!("{at}.{part}");
        guard.push(format!("has({at})"));
    }
    format!("({} && {})", guard.join(" && "), test(&at))
}

/// A pod annotation's value, tested; `false` when the annotation is absent.
pub fn annotation(key: &str, test: impl Fn(&str) -> String) -> String {
    let k = string(key);
    format!(
        "(has(object.metadata.annotations) && {k} in object.metadata.annotations && {})",
        test(&format!("object.metadata.annotations[{k}]"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_quotes_backslashes_and_non_ascii() {
        assert_eq!(string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(string("x\ny\u{2028}"), r#""x\u000ay\u2028""#);
        assert_eq!(string("🦀"), r#""\U0001f980""#);
        assert_eq!(string("' + true + '"), r#""' + true + '""#);
    }

    #[test]
    fn init_exemption_is_an_alternative_not_a_replacement() {
        let e = every_container(Lists::WithResources, "P", Some("X"));
        assert!(e.contains("object.spec.containers.all(c, P)"));
        assert!(e.contains("object.spec.initContainers.all(c, (X) || (P))"));
        assert!(!e.contains("ephemeral"));
    }
}

//! Secret redaction: diffs go into PR comments and CI logs, so private keys,
//! passwords and tokens are never printed.
//!
//! Input: YAML text (values or manifests, possibly broken by a hand edit, so
//! the work is line by line). Output: the same lines with secret values
//! replaced by `[redacted #N]`. One [`Redactor`] serves both sides of a
//! comparison and numbers distinct secrets in order of appearance, so a
//! changed secret still shows as a changed line while its value stays hidden
//! (equal labels mean equal values; nothing else leaks).
//!
//! Redacted: values of keys whose name ends like `key`, `password`, `token`,
//! `keys` (the auth-state keys),
//! `secret` (`cookieSecret`, `apiToken`, `tlsKey`, `client_secret`, …; not
//! `secretName`, `existingSecret` or `secretSync`), the `value` of an `{name: *_TOKEN, value: …}` environment
//! entry, PEM blocks wherever they appear, and the `data`/`stringData` of
//! any `kind: Secret` document.

/// Numbers secret values consistently across the texts it redacts.
#[derive(Debug, Default)]
pub struct Redactor {
    seen: Vec<String>,
}

/// Key names whose values are secrets: the name ends with a secret word
/// (`cookieSecret`, `secretToken`, `client_secret`, `GITHUB_TOKEN`,
/// `tlsKey`, `tls.key`), so sections such as `secretSync` or references
/// such as `secretName` stay readable.
pub fn secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    let word_end = [
        "password",
        "passwd",
        "secret",
        "secrets",
        "token",
        "tokens",
        "credential",
        "credentials",
        "apikey",
        "privatekey",
    ]
    .iter()
    .any(|w| k.ends_with(w));
    // `hub.existingSecret` names a Secret, like `secretName`.
    (word_end && k != "existingsecret")
        || k == "key"
        // `hub.config.CryptKeeper.keys`: the auth-state encryption keys.
        || k == "keys"
        || key.ends_with("Key")
        || [".key", "_key", "-key"].iter().any(|s| k.ends_with(s))
}

/// Values that carry no secret (switches, empty values).
fn harmless(value: &str) -> bool {
    matches!(
        value,
        "" | "true" | "false" | "null" | "~" | "{}" | "[]" | "''" | "\"\""
    ) || value.starts_with('*')
}

/// Whether a flow collection (`{user: a, password: b}`) holds a secret key.
fn flow_secret(value: &str) -> bool {
    value.starts_with(['{', '['])
        && value
            .split(['{', '}', '[', ']', ','])
            .filter_map(|part| part.split_once(':'))
            .any(|(k, v)| secret_key(k.trim().trim_matches(['"', '\''])) && !harmless(v.trim()))
}

/// A label key such as `hub.jupyter.org/dedicated` or `component`.
fn label_like(value: &str) -> bool {
    let v = value.trim_matches(['"', '\'']);
    !v.is_empty()
        && v.len() <= 253
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && v.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

/// A line split as `<indent><dashes><key>: <value>`.
struct Line<'a> {
    /// Indentation and any `- ` list markers.
    prefix: &'a str,
    /// Column where the key (or the item's value) starts.
    column: usize,
    key: Option<&'a str>,
    /// The key exactly as written (quotes kept).
    raw_key: &'a str,
    value: &'a str,
}

fn split(line: &str) -> Line<'_> {
    let mut column = line.len() - line.trim_start().len();
    while line[column..].starts_with("- ") {
        column += 2;
        column += line[column..].len() - line[column..].trim_start().len();
    }
    let (prefix, rest) = line.split_at(column);
    let key_end = if rest.starts_with(['{', '[', '|', '>', '#']) {
        None
    } else {
        rest.find(": ")
            .or_else(|| rest.ends_with(':').then(|| rest.len() - 1))
    };
    match key_end {
        Some(end) => {
            let raw_key = &rest[..end];
            Line {
                prefix,
                column,
                key: Some(raw_key.trim().trim_matches(['"', '\''])),
                raw_key,
                value: rest[end + 1..].trim(),
            }
        }
        None => Line {
            prefix,
            column,
            key: None,
            raw_key: "",
            value: rest.trim_end(),
        },
    }
}

/// Whether a document's lines declare a top-level `kind: Secret`.
fn is_secret_doc(lines: &[&str]) -> bool {
    lines.iter().any(|l| {
        l.strip_prefix("kind:")
            .is_some_and(|v| v.trim().trim_matches(['"', '\'']) == "Secret")
    })
}

impl Redactor {
    pub fn new() -> Redactor {
        Redactor::default()
    }

    fn label(&mut self, secret: &str) -> String {
        let i = match self.seen.iter().position(|s| s == secret) {
            Some(i) => i,
            None => {
                self.seen.push(secret.to_string());
                self.seen.len() - 1
            }
        };
        format!("[redacted #{}]", i + 1)
    }

    /// A line inside a secret block: keys and list markers stay, values go.
    fn hide_line(&mut self, line: &str) -> String {
        if line.trim().is_empty() {
            return String::new();
        }
        let l = split(line);
        match l.key {
            Some(_) if harmless(l.value) || l.value.starts_with(['|', '>']) => line.to_string(),
            Some(_) => format!("{}{}: {}", l.prefix, l.raw_key, self.label(l.value)),
            None => format!("{}{}", l.prefix, self.label(l.value)),
        }
    }

    /// Redacts one text (a file); see the module docs for what is hidden.
    pub fn redact(&mut self, text: &str) -> String {
        let lines: Vec<&str> = text.lines().collect();
        let mut out = String::with_capacity(text.len());
        let mut start = 0;
        while start < lines.len() {
            let end = lines[start + 1..]
                .iter()
                .position(|l| *l == "---" || l.starts_with("--- "))
                .map_or(lines.len(), |i| start + 1 + i);
            self.redact_doc(&lines[start..end], &mut out);
            start = end;
        }
        if !text.ends_with('\n') && out.ends_with('\n') {
            out.pop();
        }
        out
    }

    fn redact_doc(&mut self, lines: &[&str], out: &mut String) {
        let secret_doc = is_secret_doc(lines);
        // Indentation of a key whose deeper lines are all secret.
        let mut block: Option<usize> = None;
        let mut pem = false;
        // Column of an env entry's `name: *_TOKEN`, whose `value:` is secret.
        let mut env_value: Option<usize> = None;
        for line in lines {
            let indent = line.len() - line.trim_start().len();
            if pem {
                pem = !line.contains("-----END");
                let hidden = self.label(line.trim());
                out.push_str(&format!("{}{hidden}\n", &line[..indent]));
                continue;
            }
            if let Some(ind) = block {
                // A block sequence may sit at its key's own indentation.
                let item = indent == ind && line.trim_start().starts_with("- ");
                if line.trim().is_empty() || indent > ind || item {
                    let hidden = self.hide_line(line);
                    out.push_str(&hidden);
                    out.push('\n');
                    continue;
                }
                block = None;
            }
            let l = split(line);
            if env_value.is_some_and(|c| l.column < c) {
                env_value = None;
            }
            if line.contains("-----BEGIN") {
                pem = !line.contains("-----END");
                let hidden = self.label(l.value);
                match l.key {
                    Some(_) => out.push_str(&format!("{}{}: {hidden}\n", l.prefix, l.raw_key)),
                    None => out.push_str(&format!("{}{hidden}\n", l.prefix)),
                }
                continue;
            }
            let Some(key) = l.key else {
                out.push_str(line);
                out.push('\n');
                continue;
            };
            let secret_data = secret_doc && indent == 0 && matches!(key, "data" | "stringData");
            let env_secret = key == "value" && env_value == Some(l.column);
            if key == "name" {
                env_value = secret_key(l.value.trim_matches(['"', '\''])).then_some(l.column);
            }
            // `- key: component` in selectors and tolerations names a label.
            let selector =
                key == "key" && l.prefix.trim_end().ends_with('-') && label_like(l.value);
            let secret_value = secret_data
                || flow_secret(l.value)
                || (env_secret || secret_key(key) && !selector) && !harmless(l.value);
            if !secret_value {
                // A secret key with an empty value opens a nested block.
                if secret_key(key) && l.value.is_empty() {
                    block = Some(indent);
                }
                out.push_str(line);
                out.push('\n');
                continue;
            }
            if l.value.is_empty() || l.value.starts_with(['|', '>']) {
                // The value follows on deeper lines.
                block = Some(indent);
                out.push_str(line);
            } else {
                let hidden = self.label(l.value);
                out.push_str(&format!("{}{}: {hidden}", l.prefix, l.raw_key));
            }
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(text: &str) -> String {
        Redactor::new().redact(text)
    }

    #[test]
    fn redacts_keys_pem_and_secret_data() {
        let text = "proxy:\n  https:\n    manual:\n      key: |\n        -----BEGIN PRIVATE KEY-----\n        abc\n        -----END PRIVATE KEY-----\n      cert: x\n  secretToken: s3cr3t\nsingleuser:\n  automountServiceAccountToken: false\n";
        let r = redact(text);
        assert!(!r.contains("abc") && !r.contains("s3cr3t"), "{r}");
        assert!(r.contains("cert: x"));
        assert!(r.contains("automountServiceAccountToken: false"));
        assert!(r.contains("secretToken: [redacted #"), "{r}");
        let s =
            redact("kind: Secret\ndata:\n  a: Zm9v\n---\nkind: ConfigMap\ndata:\n  b: visible\n");
        assert!(
            !s.contains("Zm9v") && s.contains("  a: [redacted #1]"),
            "{s}"
        );
        assert!(s.contains("b: visible"), "only the Secret's data: {s}");
    }

    #[test]
    fn equal_secrets_share_a_label_and_changed_ones_do_not() {
        let mut r = Redactor::new();
        let a = r.redact("hub:\n  cookieSecret: one\n  password: two\n");
        let b = r.redact("hub:\n  cookieSecret: one\n  password: three\n");
        assert_eq!(a.lines().nth(1), b.lines().nth(1));
        assert_ne!(a.lines().nth(2), b.lines().nth(2));
        assert!(!b.contains("three"));
    }

    #[test]
    fn env_entries_nested_blocks_and_references() {
        let r = redact(
            "extraEnv:\n- name: GITHUB_TOKEN\n  value: ghp_x\n- name: LANG\n  value: C.UTF-8\nauth:\n  secret:\n    a: b\n    c: [d]\nhttps:\n  secretName: hub-tls\nmatchExpressions:\n- key: component\n",
        );
        assert!(!r.contains("ghp_x"), "{r}");
        assert!(r.contains("value: C.UTF-8"), "{r}");
        assert!(!r.contains("a: b") && r.contains("    a: [redacted"), "{r}");
        assert!(r.contains("secretName: hub-tls"), "{r}");
        let named = redact("hub:\n  existingSecret: hub-credentials\n");
        assert!(named.contains("existingSecret: hub-credentials"), "{named}");
        let sync = redact("secretSync:\n  resources:\n    cpu: 10m\n");
        assert!(sync.contains("cpu: 10m"), "{sync}");
        assert!(r.contains("- key: component"), "selector keys stay: {r}");
        let k = redact("CryptKeeper:\n  keys:\n  - k3y0ne\n  - k3ytwo\n");
        assert!(!k.contains("k3y"), "auth-state keys are hidden: {k}");
        let m = redact("tls:\n  key: abc123\n");
        assert!(!m.contains("abc123"), "a mapping's `key` is hidden: {m}");
    }

    #[test]
    fn pem_without_a_key_and_flow_maps() {
        let r = redact(
            "- |\n  -----BEGIN CERTIFICATE-----\n  MIIB\n  -----END CERTIFICATE-----\nx: {password: hunter2}\n",
        );
        assert!(!r.contains("MIIB") && !r.contains("hunter2"), "{r}");
    }
}

//! Secret redaction: diffs go into PR comments and CI logs, so private keys,
//! passwords and tokens are never printed.

/// Key names whose string values are secrets.
fn secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["password", "secret", "token", "privatekey", "private_key"]
        .iter()
        .any(|w| k.contains(w))
        || k == "key"
}

/// Redacts secret-looking lines of YAML text: values of secret keys, PEM
/// blocks and the data of Kubernetes Secrets. Works line by line so it also
/// covers files that no longer parse (a broken hand edit).
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_pem = false;
    let mut secret_indent: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        if let Some(ind) = secret_indent {
            if trimmed.is_empty() || indent > ind {
                out.push_str(&format!("{}[redacted]\n", " ".repeat(indent)));
                continue;
            }
            secret_indent = None;
        }
        if trimmed.contains("-----BEGIN") {
            in_pem = true;
        }
        if in_pem {
            if trimmed.contains("-----END") {
                in_pem = false;
            }
            out.push_str(&format!("{}[redacted]\n", " ".repeat(indent)));
            continue;
        }
        if let Some((key, value)) = trimmed.trim_start_matches("- ").split_once(':') {
            let key = key.trim().trim_matches('"');
            let value = value.trim();
            let is_data = key == "data" || key == "stringData";
            if (secret_key(key)
                && !value.is_empty()
                && !matches!(value, "true" | "false" | "null" | "{}" | "[]"))
                || (is_data && text.contains("kind: Secret"))
            {
                if value.is_empty()
                    || value == "|"
                    || value.starts_with("|")
                    || value.starts_with('>')
                {
                    secret_indent = Some(indent);
                    out.push_str(&format!("{}{key}: [redacted]\n", " ".repeat(indent)));
                } else {
                    out.push_str(&format!("{}{key}: [redacted]\n", &line[..indent]));
                }
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_keys_pem_and_secret_data() {
        let text = "proxy:\n  https:\n    manual:\n      key: |\n        -----BEGIN PRIVATE KEY-----\n        abc\n        -----END PRIVATE KEY-----\n      cert: x\n  secretToken: s3cr3t\nsingleuser:\n  automountServiceAccountToken: false\n";
        let r = redact_text(text);
        assert!(!r.contains("abc") && !r.contains("s3cr3t"), "{r}");
        assert!(r.contains("cert: x"));
        assert!(r.contains("automountServiceAccountToken: false"));
        let s = redact_text("kind: Secret\ndata:\n  a: Zm9v\n");
        assert!(!s.contains("Zm9v"), "{s}");
    }
}

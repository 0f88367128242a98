//! Values files as Helm reads them. Helm resolves plain (unquoted) scalars
//! with YAML 1.1 rules (go-yaml v2): `no`, `off` and `n` are false, `0755`
//! is 493, `1_000` is 1000. The strict reader in [`crate::yaml`] keeps those
//! as strings; this pass turns every plain scalar into what Helm sees, and
//! records each place where the two readings differ.
//!
//! Whether a scalar was plain is read off the source text at the node's
//! position: a quote, a block indicator or a tag there means it was not.

use serde_json::{Map, Number, Value};

use crate::paths::escape_pointer;
use crate::yaml::{Doc, Pos};

/// A scalar whose YAML 1.1 meaning (Helm's) differs from YAML 1.2's.
#[derive(Debug, Clone, PartialEq)]
pub struct Reinterpreted {
    pub pos: Pos,
    /// Dotted path of the key.
    pub path: String,
    pub written: String,
    pub helm: Value,
}

/// Applies Helm's scalar rules to a parsed values document.
pub fn helm_values(doc: &mut Doc, text: &str) -> Vec<Reinterpreted> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut value = std::mem::take(&mut doc.value);
    walk(&mut value, String::new(), doc, &lines, &mut out);
    doc.value = value;
    out
}

fn plain_at(lines: &[&str], pos: Pos) -> bool {
    let Some(line) = lines.get(pos.line.saturating_sub(1) as usize) else {
        return false;
    };
    let col = pos.column.saturating_sub(1) as usize;
    let mut rest: String = line.chars().skip(col).collect();
    // `&anchor value`: the style is the value's.
    if let Some(after) = rest.strip_prefix('&') {
        rest = after
            .trim_start_matches(|c: char| !c.is_whitespace())
            .trim_start()
            .to_string();
    }
    // An alias or a merge repeats a node written elsewhere; its style
    // is not visible here, so it is left as read.
    !matches!(
        rest.chars().next(),
        Some('"' | '\'' | '|' | '>' | '!' | '*' | '<')
    )
}

fn walk(v: &mut Value, ptr: String, doc: &Doc, lines: &[&str], out: &mut Vec<Reinterpreted>) {
    match v {
        Value::Object(m) => {
            let old = std::mem::take(m);
            let mut new = Map::new();
            for (k, mut child) in old {
                let child_ptr = format!("{ptr}/{}", escape_pointer(&k));
                walk(&mut child, child_ptr.clone(), doc, lines, out);
                let key = match doc.spans.get(&format!("{child_ptr}#key")) {
                    Some(pos) if plain_at(lines, pos) => match resolve(&k) {
                        Some(Value::Bool(b)) => b.to_string(),
                        Some(Value::Number(n)) if n.is_i64() => n.to_string(),
                        _ => k.clone(),
                    },
                    _ => k.clone(),
                };
                if key != k
                    && let Some(pos) = doc.spans.get(&format!("{child_ptr}#key"))
                {
                    out.push(Reinterpreted {
                        pos,
                        path: dotted(&ptr, &k),
                        written: k.clone(),
                        helm: Value::String(key.clone()),
                    });
                }
                new.insert(key, child);
            }
            *m = new;
        }
        Value::Array(a) => {
            for (i, item) in a.iter_mut().enumerate() {
                walk(item, format!("{ptr}/{i}"), doc, lines, out);
            }
        }
        Value::String(s) => {
            let Some(pos) = doc.spans.get(&ptr) else {
                return;
            };
            if !plain_at(lines, pos) {
                return;
            }
            // An out-of-range float (`1e400`) reaches us as `.inf`; Helm keeps its text.
            if matches!(s.as_str(), ".inf" | "-.inf" | "+.inf" | ".nan") {
                let written = token_at(lines, pos);
                if !written.is_empty() && written != *s {
                    *s = written;
                }
                return;
            }
            if let Some(r) = resolve(s) {
                out.push(Reinterpreted {
                    pos,
                    path: ptr.trim_start_matches('/').replace('/', "."),
                    written: s.clone(),
                    helm: r.clone(),
                });
                *v = r;
            }
        }
        _ => {}
    }
}

/// The plain scalar written at `pos` (to the end of the line or a comment).
fn token_at(lines: &[&str], pos: Pos) -> String {
    let Some(line) = lines.get(pos.line.saturating_sub(1) as usize) else {
        return String::new();
    };
    let rest: String = line
        .chars()
        .skip(pos.column.saturating_sub(1) as usize)
        .collect();
    let end = rest.find(" #").unwrap_or(rest.len());
    rest[..end]
        .trim()
        .trim_end_matches([',', ']', '}'])
        .trim()
        .to_string()
}

fn dotted(parent: &str, key: &str) -> String {
    let p = parent.trim_start_matches('/').replace('/', ".");
    if p.is_empty() {
        key.to_string()
    } else {
        format!("{p}.{key}")
    }
}

/// What go-yaml v2 makes of a plain scalar that YAML 1.2 reads as a
/// string; `None` when it stays a string.
pub fn resolve(s: &str) -> Option<Value> {
    const TRUE: &[&str] = &["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"];
    const FALSE: &[&str] = &["n", "N", "no", "No", "NO", "off", "Off", "OFF"];
    if TRUE.contains(&s) {
        return Some(Value::Bool(true));
    }
    if FALSE.contains(&s) {
        return Some(Value::Bool(false));
    }
    let first = s.chars().next()?;
    if !(first.is_ascii_digit() || matches!(first, '+' | '-' | '.')) {
        return None;
    }
    let plain: String = s.chars().filter(|c| *c != '_').collect();
    if let Some(i) = go_int(&plain) {
        return Some(Value::Number(Number::from(i)));
    }
    if is_go_float(&plain) {
        let f: f64 = plain.parse().ok()?;
        if !f.is_finite() {
            return None;
        }
        // Helm holds every number as float64; integral ones print as integers.
        if f.fract() == 0.0 && f.abs() < 9.0e15 {
            return Some(Value::Number(Number::from(f as i64)));
        }
        return Number::from_f64(f).map(Value::Number);
    }
    None
}

/// Go's `strconv.ParseInt(s, 0, 64)`: sign, then `0x`, `0o`, `0b` or a
/// leading `0` (octal) prefix.
fn go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) =
        if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, d)
        } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, d)
        } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, d)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let n = i64::from_str_radix(digits, radix).ok()?;
    Some(if neg { -n } else { n })
}

/// go-yaml's float pattern: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_go_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    } else {
        if !digits(&mut i) {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars() {
        for (s, want) in [
            ("no", json!(false)),
            ("Off", json!(false)),
            ("y", json!(true)),
            ("0755", json!(493)),
            ("-0755", json!(-493)),
            ("0o755", json!(493)),
            ("0x1F", json!(31)),
            ("0b101", json!(5)),
            ("1_000", json!(1000)),
            ("08", json!(8)),
            ("012.5", json!(12.5)),
            ("5.", json!(5)),
            (".5", json!(0.5)),
        ] {
            assert_eq!(resolve(s), Some(want), "{s}");
        }
        for s in [
            "tRUE",
            "yess",
            "12:30:00",
            "1Gi",
            "500m",
            "2001-12-14",
            "1.2.3",
            "_1000",
            "1e400",
        ] {
            assert_eq!(resolve(s), None, "{s}");
        }
    }

    #[test]
    fn only_plain_scalars_and_keys_change() {
        let text = "a: no\nb: \"no\"\nc: '0755'\nmode: 0755\nyes: 1\nd: |\n  no\n";
        let mut doc = crate::yaml::parse(text).unwrap();
        let notes = helm_values(&mut doc, text);
        assert_eq!(
            doc.value,
            json!({"a": false, "b": "no", "c": "0755", "mode": 493, "true": 1, "d": "no\n"})
        );
        let paths: Vec<&str> = notes.iter().map(|n| n.path.as_str()).collect();
        assert_eq!(paths, vec!["a", "mode", "yes"]);
        assert_eq!(notes[1].pos.line, 4);
    }
}

//! KubeSpawner's conversions of trait values: template expansion, camel-cased keys, byte sizes.

use serde_json::{Value, json};

use super::USER;
use crate::effective::spawner::scalar_text;

/// KubeSpawner's template expansion of `{username}` and friends.
pub fn expand(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(expand_str(s)),
        Value::Array(a) => Value::Array(a.iter().map(expand).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), expand(x))).collect()),
        other => other.clone(),
    }
}

/// The fields in the order KubeSpawner replaces them (each replacement
/// sees the text the previous ones left).
const EXPANSIONS: &[(&str, &str)] = &[
    ("{pvc_name}", PVC_NAME),
    ("{user_server}", USER),
    ("{username}", USER),
    ("{unescaped_username}", USER),
    ("{escaped_username}", USER),
    ("{safe_username}", USER),
    ("{servername}", ""),
    ("{unescaped_servername}", ""),
    ("{escaped_servername}", ""),
    ("{safe_servername}", ""),
    ("{userid}", "1"),
];

/// The claim name of [`USER`]'s home.
const PVC_NAME: &str = "claim-user1";

pub fn expand_str(s: &str) -> String {
    let mut out = s.to_string();
    if !out.contains('{') {
        return out;
    }
    for (field, value) in EXPANSIONS {
        if out.contains(field) {
            out = out.replace(field, value);
        }
    }
    out
}

/// Kubernetes model attribute names in snake case → the API's camel case.
pub fn camel(k: &str) -> String {
    match k {
        "host_pid" => return "hostPID".into(),
        "host_ipc" => return "hostIPC".into(),
        _ => {}
    }
    if !k.contains('_') {
        return k.to_string();
    }
    let mut out = String::new();
    let mut up = false;
    for c in k.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// JupyterHub's `ByteSpecification`: `1G` is 1024³ bytes; a bare number is
/// bytes. Anything else is kept as written (the hub would refuse it).
pub fn byte_spec(v: &Value) -> Value {
    match v {
        Value::Number(n) => n
            .as_f64()
            .map(|f| json!(f as i64))
            .unwrap_or_else(|| v.clone()),
        Value::String(s) => bytes_of(s).map(|b| json!(b)).unwrap_or_else(|| v.clone()),
        other => other.clone(),
    }
}

/// Bytes of a KubeSpawner memory string.
pub fn bytes_of(s: &str) -> Option<i64> {
    let s = s.trim();
    let units: [(&str, f64); 8] = [
        ("Ki", 1024f64),
        ("Mi", 1024f64.powi(2)),
        ("Gi", 1024f64.powi(3)),
        ("Ti", 1024f64.powi(4)),
        ("K", 1024f64),
        ("M", 1024f64.powi(2)),
        ("G", 1024f64.powi(3)),
        ("T", 1024f64.powi(4)),
    ];
    for (suffix, mult) in units {
        if let Some(num) = s.strip_suffix(suffix) {
            let n: f64 = num.trim().parse().ok()?;
            return Some((n * mult) as i64);
        }
    }
    s.parse::<f64>().ok().map(|f| f as i64)
}

/// A trait value as text for messages.
pub fn show(v: &Value) -> String {
    match v {
        Value::String(_) | Value::Bool(_) | Value::Null => scalar_text(v),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_name_is_the_users() {
        assert_eq!(PVC_NAME, format!("claim-{USER}"));
        assert_eq!(
            expand(&json!({"a": ["{pvc_name}/{username}{servername}"], "b": 1})),
            json!({"a": ["claim-user1/user1"], "b": 1})
        );
    }
}

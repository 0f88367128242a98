//! The query half of the protocol: the bytes Terraform writes to stdin →
//! a checked [`Query`], or one message saying what is wrong with them.
//!
//! Terraform sends `query` as one JSON object whose values are strings.
//! A key whose value is the empty string or JSON `null` counts as not given:
//! provider releases have sent an HCL `null` as `""` (2.3.1), omitted it
//! (2.3.2 and later) or announced sending `null`, and a program that treats
//! the three alike works with all of them.

use std::path::PathBuf;

use serde_json::Value;

use crate::diag::suggest;
use crate::yaml::MAX_INPUT_BYTES;

/// Every key the query may hold, in the order the documentation lists them.
pub const KEYS: &[&str] = &[
    "policy",
    "policy_yaml",
    "chart_version",
    "base_values",
    "chart_dir",
    "today",
];

/// Where the policy comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    /// `policy`: a path, relative to Terraform's working directory.
    File(PathBuf),
    /// `policy_yaml`: the policy text itself.
    Inline(String),
}

/// A checked query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub policy: PolicySource,
    /// Overrides the policy's `chart:`; checked by [`super::run`].
    pub chart_version: Option<String>,
    /// The user's own values file, merged under the policy's values.
    pub base_values: Option<PathBuf>,
    /// A chart folder (`helm pull --untar`) to validate the values against.
    pub chart_dir: Option<PathBuf>,
    /// The day exceptions are judged on (`--today`), so a plan does not
    /// change by itself the day an exception expires.
    pub today: Option<crate::exceptions::Date>,
}

/// Parses and checks the query text.
pub fn parse(bytes: &[u8]) -> Result<Query, String> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(format!(
            "the query on stdin is over {MAX_INPUT_BYTES} bytes; give large policies as a `policy` path"
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "stdin is not UTF-8 text (bad byte at offset {}); expected the query as one JSON object",
            e.valid_up_to()
        )
    })?;
    if text.trim().is_empty() {
        return Err(
            "stdin is empty; expected the query as one JSON object, as Terraform's `external` data source sends it"
                .into(),
        );
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("stdin is not valid JSON ({e}); expected one JSON object"))?;
    let Value::Object(map) = value else {
        return Err(format!(
            "stdin holds {}; expected one JSON object of string values",
            kind(&value)
        ));
    };
    if let Some(key) = duplicate_key(text) {
        return Err(format!(
            "query key `{key}` is given twice; expected each key once"
        ));
    }

    let mut unknown = Vec::new();
    for (key, v) in &map {
        if !matches!(v, Value::String(_) | Value::Null) {
            return Err(format!(
                "query key `{key}` is {}; every query value must be a string",
                kind(v)
            ));
        }
        if !KEYS.contains(&key.as_str()) {
            unknown.push(key.as_str());
        }
    }
    if !unknown.is_empty() {
        return Err(unknown_keys(&unknown));
    }

    // "" and null mean "not given" (see the module docs).
    let get = |key: &str| {
        map.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let policy = match (get("policy"), get("policy_yaml")) {
        (Some(_), Some(_)) => {
            return Err("the query gives both `policy` and `policy_yaml`; give exactly one".into());
        }
        (None, None) => {
            return Err(
                "the query gives neither `policy` (a path to the policy file) nor `policy_yaml` (the policy text); give exactly one (empty strings count as not given)"
                    .into(),
            );
        }
        (Some(path), None) => PolicySource::File(PathBuf::from(path)),
        (None, Some(text)) => PolicySource::Inline(text),
    };
    let today = match get("today") {
        None => None,
        Some(t) => Some(
            crate::exceptions::Date::parse(&t)
                .map_err(|e| format!("invalid `today` `{t}` in the query; expected {e} (UTC)"))?,
        ),
    };
    Ok(Query {
        policy,
        chart_version: get("chart_version"),
        base_values: get("base_values").map(PathBuf::from),
        chart_dir: get("chart_dir").map(PathBuf::from),
        today,
    })
}

/// The first key the top-level object repeats (a JSON map keeps only the
/// last value, which would silently pick one of two policies).
fn duplicate_key(text: &str) -> Option<String> {
    struct Keys(Option<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut seen = std::collections::BTreeSet::new();
                    let mut dup = None;
                    while let Some((k, serde::de::IgnoredAny)) =
                        map.next_entry::<String, serde::de::IgnoredAny>()?
                    {
                        if dup.is_none() && !seen.insert(k.clone()) {
                            dup = Some(k);
                        }
                    }
                    Ok(Keys(dup))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Keys>(text).ok().and_then(|k| k.0)
}

fn unknown_keys(unknown: &[&str]) -> String {
    let described: Vec<String> = unknown
        .iter()
        .map(|k| match suggest(k, KEYS.iter().copied()) {
            Some(s) => format!("`{k}` (did you mean `{s}`?)"),
            None => format!("`{k}`"),
        })
        .collect();
    format!(
        "unknown query key{} {}; the keys are {}",
        if unknown.len() == 1 { "" } else { "s" },
        described.join(", "),
        KEYS.iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        parse(s.as_bytes()).unwrap_err()
    }

    #[test]
    fn accepts_a_path_or_inline_text() {
        let q = parse(br#"{"policy": "p.yaml", "chart_version": "3.3.8"}"#).unwrap();
        assert_eq!(q.policy, PolicySource::File("p.yaml".into()));
        assert_eq!(q.chart_version.as_deref(), Some("3.3.8"));
        assert_eq!(q.base_values, None);
        let q = parse(br#"{"policy_yaml": "kind: HubPolicy"}"#).unwrap();
        assert_eq!(q.policy, PolicySource::Inline("kind: HubPolicy".into()));
    }

    #[test]
    fn empty_strings_and_null_count_as_not_given() {
        let q = parse(br#"{"policy": "p.yaml", "policy_yaml": "", "base_values": null}"#).unwrap();
        assert_eq!(q.policy, PolicySource::File("p.yaml".into()));
        assert_eq!(q.base_values, None);
        assert!(err(r#"{"policy": "", "policy_yaml": null}"#).contains("neither"));
    }

    #[test]
    fn every_bad_query_is_named() {
        assert!(err("").contains("stdin is empty"));
        assert!(err("{policy: x}").contains("not valid JSON"));
        assert!(err("[1]").contains("holds an array"));
        assert!(
            err(r#"{"policy": "p", "chart_version": 4}"#).contains("`chart_version` is a number")
        );
        assert!(err(r#"{"policy": {"a": "b"}}"#).contains("`policy` is an object"));
        assert!(err(r#"{"policy": "a", "policy_yaml": "b"}"#).contains("both"));
        let e = err(r#"{"polcy": "p.yaml", "zzz": "1"}"#);
        assert!(
            e.starts_with("unknown query keys `polcy` (did you mean `policy`?), `zzz`;"),
            "{e}"
        );
        assert!(parse(b"\xff").unwrap_err().contains("not UTF-8"));
    }
}

//! The one place that talks to the YAML backend (serde-saphyr).
//!
//! Input: YAML text. Output: a [`Doc`] — the document as a `serde_json::Value`
//! (the one in-memory tree used everywhere else) plus a [`SpanMap`] from JSON
//! pointers to line/column, so every later stage can point at the source.
//!
//! Reading is strict: YAML 1.2 booleans only (`no` stays a string), leading-zero
//! numbers stay strings, duplicate keys are errors, and a node/depth budget
//! refuses alias bombs and absurd nesting before they cost memory.
//! Writing quotes every string Helm would otherwise read as a YAML 1.1 boolean.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;

use crate::paths::escape_pointer;

/// Largest input accepted, in bytes. Policies and values files are small;
/// anything bigger is refused before parsing.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// Line and column (both 1-based) of a node in its source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// JSON pointer (`/spec/egress/profile`) → position of the node's value.
/// Keys of maps are recorded under the pointer suffixed with `#key`.
#[derive(Debug, Clone, Default)]
pub struct SpanMap(BTreeMap<String, Pos>);

impl SpanMap {
    /// Position of the node at `pointer`, or of its nearest recorded ancestor.
    pub fn locate(&self, pointer: &str) -> Pos {
        let mut p = pointer.to_string();
        loop {
            if let Some(pos) = self.0.get(&p) {
                return *pos;
            }
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => {
                    return self
                        .0
                        .get("")
                        .copied()
                        .unwrap_or(Pos { line: 1, column: 1 });
                }
            }
        }
    }

    /// Position of the key that names the node at `pointer`, if recorded.
    pub fn locate_key(&self, pointer: &str) -> Pos {
        self.0
            .get(&format!("{pointer}#key"))
            .copied()
            .unwrap_or_else(|| self.locate(pointer))
    }

    /// The spans under `prefix`, re-rooted there (for a subtree read on its own).
    pub fn rebase(&self, prefix: &str) -> SpanMap {
        SpanMap(
            self.0
                .iter()
                .filter_map(|(k, v)| {
                    let rest = k.strip_prefix(prefix)?;
                    (rest.is_empty() || rest.starts_with('/') || rest.starts_with('#'))
                        .then(|| (rest.to_string(), *v))
                })
                .collect(),
        )
    }

    /// Exact position recorded for `pointer`, without falling back to ancestors.
    pub fn get(&self, pointer: &str) -> Option<Pos> {
        self.0.get(pointer).copied()
    }
}

/// A parsed YAML document.
#[derive(Debug, Clone)]
pub struct Doc {
    pub value: Value,
    pub spans: SpanMap,
}

/// A YAML syntax or structure error with its position.
#[derive(Debug, Clone)]
pub struct YamlError {
    pub pos: Option<Pos>,
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Most nested mappings/lists accepted.
pub const MAX_DEPTH: usize = 64;
/// Most YAML nodes accepted in one input, aliases expanded. A policy has a
/// few hundred and a chart's values.yaml a few thousand; the cap keeps an
/// alias bomb to a few megabytes and a few milliseconds.
pub const MAX_NODES: usize = 50_000;

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_nodes: MAX_NODES,
            // Aliases replay their anchor's text: bound the total, not just the file.
            max_total_scalar_bytes: MAX_INPUT_BYTES,
        },
        with_snippet: false,
    }
}

/// Options for values files as Helm reads them: a repeated key keeps its
/// last value, and an out-of-range float stays text.
fn helm_options() -> serde_saphyr::Options {
    let mut o = options();
    o.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    o.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::AsString;
    o
}

/// Parses exactly one YAML document. An empty input is an error, as is a
/// stream of several documents.
pub fn parse(text: &str) -> Result<Doc, YamlError> {
    parse_with(text, options())
}

/// [`parse`] with Helm's leniency for values files (see [`helm_options`]);
/// plain scalars still need [`crate::yaml11`] to read as Helm reads them.
pub fn parse_values(text: &str) -> Result<Doc, YamlError> {
    parse_with(text, helm_options())
}

fn parse_with(text: &str, opts: serde_saphyr::Options) -> Result<Doc, YamlError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(YamlError {
            pos: None,
            message: format!(
                "file is {} bytes; the limit is {} bytes",
                text.len(),
                MAX_INPUT_BYTES
            ),
        });
    }
    if text.contains('\0') {
        return Err(YamlError {
            pos: None,
            message: "file contains a NUL byte; expected YAML text".into(),
        });
    }
    let docs: Vec<Spanned<Node>> = serde_saphyr::from_str_multiple_with_options(text, opts)
        .map_err(|e| {
            let pos = e.location().map(|l| Pos {
                line: l.line() as u32,
                column: l.column() as u32,
            });
            YamlError {
                pos: pos.filter(|p| p.line > 0),
                message: first_line(&e.without_snippet().render()),
            }
        })?;
    let mut docs = docs.into_iter();
    let Some(first) = docs.next() else {
        return Err(YamlError {
            pos: None,
            message: "file is empty; expected one YAML document".into(),
        });
    };
    if let Some(second) = docs.next() {
        return Err(YamlError {
            pos: Some(pos_of(&second)),
            message: "found a second YAML document (`---`); expected exactly one".into(),
        });
    }
    let mut spans = SpanMap::default();
    let value = flatten(first, String::new(), &mut spans);
    if value.is_null() {
        return Err(YamlError {
            pos: None,
            message: "file is empty; expected one YAML document".into(),
        });
    }
    Ok(Doc { value, spans })
}

fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("invalid YAML").trim();
    // The backend's message may carry a location suffix; the caller prints its own.
    let line = match line.find(" at line ") {
        Some(i) => &line[..i],
        None => line,
    };
    explain(line)
}

/// Says in the reader's terms what the backend's message means and what was expected.
fn explain(msg: &str) -> String {
    if let Some(rest) = msg.strip_prefix("duplicate mapping key") {
        let key = rest
            .strip_prefix(": ")
            .and_then(|r| r.split(", set ").next())
            .unwrap_or("");
        return format!("duplicate key `{key}`; each key may appear only once in a mapping");
    }
    if let Some(breach) = msg.strip_prefix("budget breached: ") {
        let what = breach.split([' ', '{']).next().unwrap_or(breach);
        return match what {
            "Nodes" | "Events" => format!("more than {MAX_NODES} values (aliases expanded); expected a small configuration file, not an alias bomb"),
            "Depth" => format!("nested too deeply; expected at most {MAX_DEPTH} levels"),
            "ScalarBytes" => format!("strings total more than {MAX_INPUT_BYTES} bytes (aliases expanded)"),
            "Aliases" | "Anchors" | "AliasAnchorRatio" => "too many aliases (`*name`) for the anchors (`&name`) defined; expected a small configuration file, not an alias bomb".into(),
            "Documents" => "too many YAML documents".into(),
            other => format!("exceeds the reader's limits ({other})"),
        };
    }
    if msg.starts_with("recursion limit exceeded") {
        return format!("nested too deeply; expected at most {MAX_DEPTH} levels");
    }
    if msg.starts_with("tabs disallowed") {
        return format!("{msg}; YAML indentation must use spaces, not tabs");
    }
    msg.to_string()
}

fn pos_of<T>(s: &Spanned<T>) -> Pos {
    Pos {
        line: s.referenced.line() as u32,
        column: s.referenced.column() as u32,
    }
}

fn flatten(node: Spanned<Node>, pointer: String, spans: &mut SpanMap) -> Value {
    let pos = pos_of(&node);
    if pos.line > 0 {
        spans.0.insert(pointer.clone(), pos);
    }
    match node.value {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(b),
        Node::Number(n) => Value::Number(n),
        Node::String(s) => Value::String(s),
        Node::Seq(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| flatten(item, format!("{pointer}/{i}"), spans))
                .collect(),
        ),
        Node::Map(entries) => {
            let mut map = Map::new();
            for (key, val) in entries {
                let child = format!("{pointer}/{}", escape_pointer(&key.value.0));
                let kpos = pos_of(&key);
                if kpos.line > 0 {
                    spans.0.insert(format!("{child}#key"), kpos);
                }
                let v = flatten(val, child, spans);
                map.insert(key.value.0, v);
            }
            Value::Object(map)
        }
    }
}

/// The YAML node tree with a position on every node.
enum Node {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<Key>, Spanned<Node>)>),
}

/// A mapping key. Scalars of any type are accepted and kept as their text,
/// the way Helm treats keys.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
                Ok(Key("null".into()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Number::from_f64(v)
            .map(Node::Number)
            .ok_or_else(|| E::custom("non-finite numbers (.inf, .nan) are not accepted"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(v))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Node, E> {
        Err(E::custom("binary (!!binary) values are not accepted"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Key>>()? {
            let val = map.next_value::<Spanned<Node>>()?;
            entries.push((key, val));
        }
        Ok(Node::Map(entries))
    }
}

/// Serializes a value as block YAML. Strings that a YAML 1.1 reader (Helm)
/// would take for booleans, numbers or null come out quoted.
pub fn to_string(value: &Value) -> String {
    let opts = serde_saphyr::ser_options! { indent_step: 2 };
    let mut s = serde_saphyr::to_string_with_options(value, opts)
        .unwrap_or_else(|e| unreachable!("a JSON value always serializes as YAML: {e}"));
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// Parses a stream of documents (as `kubectl apply -f` reads), skipping empty ones.
pub fn parse_stream(text: &str) -> Result<Vec<Value>, YamlError> {
    let docs: Vec<Spanned<Node>> = serde_saphyr::from_str_multiple_with_options(text, options())
        .map_err(|e| YamlError {
            pos: e.location().map(|l| Pos {
                line: l.line() as u32,
                column: l.column() as u32,
            }),
            message: first_line(&e.without_snippet().render()),
        })?;
    let mut spans = SpanMap::default();
    Ok(docs
        .into_iter()
        .map(|d| flatten(d, String::new(), &mut spans))
        .filter(|v| !v.is_null())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_strict_scalars() {
        let doc = parse("a:\n  b: no\n  c: [1, x]\nd: 012\n").unwrap();
        assert_eq!(doc.value["a"]["b"], Value::String("no".into()));
        assert_eq!(doc.value["d"], Value::String("012".into()));
        assert_eq!(doc.spans.locate("/a/b"), Pos { line: 2, column: 6 });
        assert_eq!(
            doc.spans.locate("/a/c/1"),
            Pos {
                line: 3,
                column: 10
            }
        );
        assert_eq!(doc.spans.locate_key("/a/c"), Pos { line: 3, column: 3 });
    }

    #[test]
    fn refuses_duplicates_streams_and_empty() {
        let e = parse("a: 1\na: 2\n").unwrap_err();
        assert!(e.message.contains("duplicate"), "{}", e.message);
        assert_eq!(e.pos.map(|p| p.line), Some(2));
        assert!(
            parse("a: 1\n---\nb: 2\n")
                .unwrap_err()
                .message
                .contains("second")
        );
        assert!(parse("").unwrap_err().message.contains("empty"));
        assert!(
            parse("# only a comment\n")
                .unwrap_err()
                .message
                .contains("empty")
        );
    }

    #[test]
    fn refuses_alias_bomb_and_deep_nesting() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for c in 'b'..='k' {
            bomb.push_str(&format!("{c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = c;
        }
        assert!(parse(&bomb).is_err());
        let deep = "[".repeat(10_000);
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn quotes_yaml11_booleans_on_output() {
        let v = serde_json::json!({"country": "no", "flag": "on", "y": "y", "n": "1.0", "t": true});
        let out = to_string(&v);
        assert!(
            out.contains("country: \"no\"") || out.contains("country: 'no'"),
            "{out}"
        );
        assert!(
            out.contains("flag: \"on\"") || out.contains("flag: 'on'"),
            "{out}"
        );
        assert!(out.contains("t: true"), "{out}");
        let back = parse(&out).unwrap();
        assert_eq!(back.value, v);
    }
}

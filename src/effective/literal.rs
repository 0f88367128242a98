//! Python literals (`True`, `0o755`, `"x"`, lists, dicts, tuples) read as
//! JSON, for the values the hub's Python assigns to spawner traits.

use serde_json::{Map, Number, Value};

/// A Python literal (`True`, `0`, `"x"`, `[…]`, `{…}`, tuples) as JSON;
/// `None` for anything else.
pub fn literal(src: &str) -> Option<Value> {
    let mut p = Lit {
        s: src.trim().as_bytes(),
        i: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.ws();
    (p.i == p.s.len()).then_some(v)
}

struct Lit<'a> {
    s: &'a [u8],
    i: usize,
    depth: u32,
}

impl Lit<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn value(&mut self) -> Option<Value> {
        self.depth += 1;
        if self.depth > 64 {
            return None;
        }
        self.ws();
        let v = match self.s.get(self.i)? {
            b'[' | b'(' => {
                let close = if self.s[self.i] == b'[' { b']' } else { b')' };
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    if self.eat(close) {
                        break;
                    }
                    items.push(self.value()?);
                    if !self.eat(b',') {
                        if !self.eat(close) {
                            return None;
                        }
                        break;
                    }
                }
                Value::Array(items)
            }
            b'{' => {
                self.i += 1;
                let mut map = Map::new();
                loop {
                    if self.eat(b'}') {
                        break;
                    }
                    let key = match self.value()? {
                        Value::String(s) => s,
                        Value::Number(n) => n.to_string(),
                        _ => return None,
                    };
                    if !self.eat(b':') {
                        return None;
                    }
                    map.insert(key, self.value()?);
                    if !self.eat(b',') {
                        if !self.eat(b'}') {
                            return None;
                        }
                        break;
                    }
                }
                Value::Object(map)
            }
            b'"' | b'\'' | b'r' | b'R' | b'u' | b'U' | b'b' | b'B' => self.string()?,
            _ => self.word()?,
        };
        self.depth -= 1;
        Some(v)
    }
    fn string(&mut self) -> Option<Value> {
        let mut raw = false;
        while let Some(c) = self.s.get(self.i) {
            match c {
                b'r' | b'R' => raw = true,
                b'u' | b'U' => {}
                b'"' | b'\'' => break,
                _ => return self.word(),
            }
            self.i += 1;
        }
        let q = *self.s.get(self.i)?;
        let triple = self.s.get(self.i + 1) == Some(&q) && self.s.get(self.i + 2) == Some(&q);
        self.i += if triple { 3 } else { 1 };
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.i)?;
            if c == q {
                if !triple {
                    self.i += 1;
                    break;
                }
                if self.s.get(self.i + 1) == Some(&q) && self.s.get(self.i + 2) == Some(&q) {
                    self.i += 3;
                    break;
                }
            }
            if c == b'\\' && !raw {
                let n = *self.s.get(self.i + 1)?;
                match n {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'\\' | b'\'' | b'"' => out.push(n),
                    // Other escapes are kept as written; a value that needs
                    // them is not one a security check reads.
                    _ => out.extend([b'\\', n]),
                }
                self.i += 2;
                continue;
            }
            out.push(c);
            self.i += 1;
        }
        // Adjacent literals concatenate.
        let mut s = String::from_utf8(out).ok()?;
        self.ws();
        if matches!(self.s.get(self.i), Some(b'"' | b'\''))
            && let Value::String(more) = self.string()?
        {
            s.push_str(&more);
        }
        Some(Value::String(s))
    }
    fn word(&mut self) -> Option<Value> {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'+'))
        {
            self.i += 1;
        }
        let w = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        match w {
            "True" => Some(Value::Bool(true)),
            "False" => Some(Value::Bool(false)),
            "None" => Some(Value::Null),
            _ => number(w),
        }
    }
}

fn number(w: &str) -> Option<Value> {
    let w = w.replace('_', "");
    let (neg, digits) = match w.strip_prefix('-') {
        Some(d) => (true, d.to_string()),
        None => (false, w.trim_start_matches('+').to_string()),
    };
    let int = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = digits
        .strip_prefix("0o")
        .or_else(|| digits.strip_prefix("0O"))
    {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = digits
        .strip_prefix("0b")
        .or_else(|| digits.strip_prefix("0B"))
    {
        i64::from_str_radix(b, 2).ok()
    } else if digits.chars().all(|c| c.is_ascii_digit()) && !digits.is_empty() {
        digits.parse::<i64>().ok()
    } else {
        None
    };
    if let Some(n) = int {
        return Some(Value::Number(Number::from(if neg { -n } else { n })));
    }
    let f: f64 = w.parse().ok()?;
    Number::from_f64(f).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals() {
        assert_eq!(literal("0o755"), Some(json!(493)));
        assert_eq!(literal("-1_000"), Some(json!(-1000)));
        assert_eq!(literal("1.5"), Some(json!(1.5)));
        assert_eq!(literal("None"), Some(Value::Null));
        assert_eq!(literal("('a', \"b\" 'c')"), Some(json!(["a", "bc"])));
        assert_eq!(literal("f'x{y}'"), None);
        assert_eq!(literal("os.environ['X']"), None);
        assert_eq!(
            literal("{'a': [1, {'b': False}],}"),
            Some(json!({"a": [1, {"b": false}]}))
        );
    }
}

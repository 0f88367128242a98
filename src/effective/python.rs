//! Python the hub runs (`hub.extraConfig`, files mounted into
//! `jupyterhub_config.d`): what it does to the spawner.
//!
//! The code is never run. Each statement is read for the few shapes that
//! change how user pods are built: an assignment of a literal to a spawner
//! trait (readable), an assignment of anything else or a mutation of a
//! trait (unreadable: the trait becomes unknown), a hook (`*_hook`: the
//! whole pod becomes unknown), and any other mention of the spawner that
//! cannot be followed (also the whole pod). Nothing is ever taken as
//! "holds" because Python was skipped.

use serde_json::Value;

pub use super::literal::literal;

/// Where in the hub's Python something happens.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct PyLine {
    /// Values path of the code (`hub.extraConfig.<key>` or the extra file's
    /// `stringData`).
    pub path: Vec<String>,
    /// 1-based line within the code.
    pub line: u32,
    /// The statement's first line, trimmed.
    pub text: String,
}

/// One thing a Python statement does to the spawner.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// `c.KubeSpawner.<name> = <value>`; `None` when the value is not a
    /// literal (a call, a name, an f-string, …).
    Set {
        name: String,
        value: Option<Value>,
        at: PyLine,
    },
    /// `c.KubeSpawner.<name>.append(…)`, `+=`, item assignment, `.update(…)`.
    Mutate { name: String, at: PyLine },
    /// `c.KubeSpawner.<name>.update(<literal dict>)`, `.append(<literal>)`
    /// or `.extend(<literal list>)` on its own: readable.
    Call {
        name: String,
        method: String,
        arg: Value,
        at: PyLine,
    },
    /// A hook (`modify_pod_hook`, `pre_spawn_hook`, …): arbitrary code that
    /// sees the spawner or the pod.
    Hook { name: String, at: PyLine },
    /// Spawner-related code that cannot be followed (another spawner class,
    /// a subclass, an alias of the config section, `setattr`, `exec`).
    Opaque { what: String, at: PyLine },
}

impl Effect {
    pub fn at(&self) -> &PyLine {
        match self {
            Effect::Set { at, .. }
            | Effect::Mutate { at, .. }
            | Effect::Call { at, .. }
            | Effect::Hook { at, .. }
            | Effect::Opaque { at, .. } => at,
        }
    }
}

/// Config sections whose traits reach the spawner. `Spawner` traits apply
/// to KubeSpawner unless its own section sets them.
const SECTIONS: &[&str] = &["KubeSpawner", "Spawner"];

/// Reads one piece of code; `path` names it in citations.
pub fn scan(path: &[String], code: &str) -> Vec<Effect> {
    let mut out = Vec::new();
    let stmts = statements(code);
    let funcs = functions(&stmts);
    for stmt in stmts {
        let at = PyLine {
            path: path.to_vec(),
            line: stmt.line,
            text: stmt.first_line.trim().chars().take(160).collect(),
        };
        let before = out.len();
        read_statement(&stmt.text, at, &mut out);
        // `c.KubeSpawner.uid = f` where `f` only adds a number to the
        // user's id: evaluated for the user the pod is built for.
        for e in &mut out[before..] {
            if let Effect::Set {
                value: v @ None, ..
            } = e
                && let Some((_, _, rhs)) = assignment(&stmt.text)
                && let Some(n) = funcs.get(rhs.trim())
            {
                *v = Some(Value::from(*n));
            }
        }
    }
    out
}

/// Id of the user pods are built for.
pub const USER_ID: i64 = 1;

/// Functions of one parameter whose body is `return N + int(p.user.id)`
/// (either order): name → their value for [`USER_ID`].
fn functions(stmts: &[Statement]) -> std::collections::BTreeMap<String, i64> {
    let mut out = std::collections::BTreeMap::new();
    for (i, s) in stmts.iter().enumerate() {
        let Some(rest) = s.text.strip_prefix("def ") else {
            continue;
        };
        let Some((name, params)) = rest.split_once('(') else {
            continue;
        };
        let param = params.split(')').next().unwrap_or("").trim();
        if param.is_empty() || param.contains(',') {
            continue;
        }
        let indent = |l: &str| l.len() - l.trim_start().len();
        let body: Vec<&Statement> = stmts[i + 1..]
            .iter()
            .take_while(|b| indent(&b.first_line) > indent(&s.first_line))
            .collect();
        let [ret] = body.as_slice() else {
            continue;
        };
        let Some(expr) = ret.text.strip_prefix("return ") else {
            continue;
        };
        let id = format!("int({param}.user.id)");
        let terms: Vec<String> = expr.split('+').map(|t| t.replace(' ', "")).collect();
        let mut total = 0i64;
        let mut ok = !terms.is_empty();
        for t in &terms {
            if *t == id || *t == format!("{param}.user.id") {
                total += USER_ID;
            } else if let Some(Value::Number(n)) = literal(t) {
                match n.as_i64() {
                    Some(n) => total += n,
                    None => ok = false,
                }
            } else {
                ok = false;
            }
        }
        if ok && terms.iter().any(|t| t.contains(".user.id")) {
            out.insert(name.trim().to_string(), total);
        }
    }
    out
}

/// The statements of `code` whose code (string contents blanked) `pred`
/// accepts, each as a citable line.
pub fn lines_where(path: &[String], code: &str, pred: impl Fn(&str) -> bool) -> Vec<PyLine> {
    statements(code)
        .into_iter()
        .filter(|s| pred(&without_strings(&s.text)))
        .map(|s| PyLine {
            path: path.to_vec(),
            line: s.line,
            text: s.first_line.trim().chars().take(160).collect(),
        })
        .collect()
}

/// A logical statement: physical lines joined while brackets are open,
/// a string is open, or a line ends in a backslash.
struct Statement {
    line: u32,
    text: String,
    first_line: String,
}

fn statements(code: &str) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut cur: Option<Statement> = None;
    let mut depth: i32 = 0;
    let mut open_triple: Option<&'static str> = None;
    for (i, raw) in code.lines().enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let stmt = cur.get_or_insert_with(|| Statement {
            line: line_no,
            text: String::new(),
            first_line: raw.to_string(),
        });
        let (cleaned, d, triple) = strip_line(raw, open_triple);
        open_triple = triple;
        depth += d;
        if !stmt.text.is_empty() {
            stmt.text.push(' ');
        }
        stmt.text.push_str(cleaned.trim());
        let continued = depth > 0 || open_triple.is_some() || raw.trim_end().ends_with('\\');
        if !continued {
            depth = 0;
            if let Some(s) = cur.take()
                && !s.text.trim().is_empty()
            {
                out.push(s);
            }
        }
    }
    if let Some(s) = cur.take()
        && !s.text.trim().is_empty()
    {
        out.push(s);
    }
    out
}

/// Removes a comment, keeps string contents (so literals can be read), and
/// counts bracket depth outside strings. Returns the kept text, the change
/// in depth and a triple-quoted string still open at the end of the line.
fn strip_line(line: &str, mut triple: Option<&'static str>) -> (String, i32, Option<&'static str>) {
    let mut out = String::new();
    let mut depth = 0;
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        if let Some(t) = triple {
            let q = t.chars().next().unwrap_or('"');
            if c == q && chars.get(i + 1) == Some(&q) && chars.get(i + 2) == Some(&q) {
                out.push_str(t);
                triple = None;
                i += 3;
                continue;
            }
            out.push(c);
            i += 1;
            continue;
        }
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.get(i + 1) {
                    out.push(*n);
                }
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            '#' => break,
            '"' | '\'' => {
                if chars.get(i + 1) == Some(&c) && chars.get(i + 2) == Some(&c) {
                    triple = Some(if c == '"' { "\"\"\"" } else { "'''" });
                    out.push_str(if c == '"' { "\"\"\"" } else { "'''" });
                    i += 3;
                    continue;
                }
                quote = Some(c);
                out.push(c);
            }
            '(' | '[' | '{' => {
                depth += 1;
                out.push(c);
            }
            ')' | ']' | '}' => {
                depth -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    (out, depth, triple)
}

fn read_statement(text: &str, at: PyLine, out: &mut Vec<Effect>) {
    let t = text.trim();
    // Several statements on one line.
    if let Some(parts) = split_top(t, ';') {
        for p in parts {
            read_statement(&p, at.clone(), out);
        }
        return;
    }
    // A subclass does nothing until `spawner_class` names it; imports
    // change nothing.
    if t.starts_with("class ") || t.starts_with("import ") || t.starts_with("from ") {
        return;
    }
    if let Some(name) = spawner_class_assignment(t) {
        out.push(Effect::Opaque {
            what: format!("`JupyterHub.spawner_class` set to `{name}`"),
            at,
        });
        return;
    }
    if let Some((target, op, value)) = assignment(t) {
        if let Some((name, rest)) = spawner_target(&target) {
            let effect = if name.ends_with("_hook") {
                Effect::Hook { name, at }
            } else if rest.is_empty() && op == "=" {
                Effect::Set {
                    value: literal(&value),
                    name,
                    at,
                }
            } else {
                Effect::Mutate { name, at }
            };
            out.push(effect);
            return;
        }
        if target.contains("Spawner") || target.starts_with("c[") {
            out.push(Effect::Opaque {
                what: format!("assignment to `{target}`"),
                at,
            });
            return;
        }
    }
    if mentions_spawner(&without_strings(t)) {
        // A call on a trait (`.append`, `.update`, `.extend`) is a mutation
        // of that trait; anything else that touches the spawner is opaque.
        for section in SECTIONS {
            let needle = format!("c.{section}.");
            if let Some(i) = t.find(&needle) {
                let rest = &t[i + needle.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    let call = literal_call(t, &format!("{needle}{name}"));
                    let effect = if name.ends_with("_hook") {
                        Effect::Hook { name, at }
                    } else if let Some((method, arg)) = call {
                        Effect::Call {
                            name,
                            method,
                            arg,
                            at,
                        }
                    } else {
                        Effect::Mutate { name, at }
                    };
                    out.push(effect);
                    return;
                }
            }
        }
        out.push(Effect::Opaque {
            what: "spawner configuration that cannot be read statically".into(),
            at,
        });
    }
}

/// `<target>.update(<literal>)` (or `append`, `extend`) as the whole
/// statement: the method and its literal argument.
fn literal_call(t: &str, target: &str) -> Option<(String, Value)> {
    let rest = t.trim().strip_prefix(target)?.strip_prefix('.')?;
    let (method, arg) = rest.split_once('(')?;
    if !matches!(method, "update" | "append" | "extend") {
        return None;
    }
    let arg = arg.trim_end().strip_suffix(')')?;
    Some((method.to_string(), literal(arg)?))
}

/// The statement with string contents blanked, so text inside strings is
/// never taken for code.
fn without_strings(t: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in t.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                    out.push(c);
                }
            }
            None => {
                if c == '"' || c == '\'' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

/// Code that names the spawner or the config sections it reads, outside a
/// plain trait assignment.
fn mentions_spawner(t: &str) -> bool {
    let words = [
        "KubeSpawner",
        "c.Spawner",
        "setattr(c",
        "exec(",
        "c[\"KubeSpawner\"]",
        "c['KubeSpawner']",
        "c[\"Spawner\"]",
        "c['Spawner']",
    ];
    words.iter().any(|w| t.contains(w))
}

fn spawner_class_assignment(t: &str) -> Option<String> {
    let (target, op, value) = assignment(t)?;
    (op == "=" && target.replace(' ', "") == "c.JupyterHub.spawner_class")
        .then(|| {
            let v = value.trim().trim_matches(|c| c == '"' || c == '\'');
            v.to_string()
        })
        .filter(|v| v != "kubespawner.KubeSpawner" && v != "KubeSpawner")
}

/// `c.KubeSpawner.name…` / `c.Spawner.name…` (also `c["KubeSpawner"]…`):
/// the trait name and whatever follows it (`""` for a plain assignment).
fn spawner_target(target: &str) -> Option<(String, String)> {
    let t = target.replace(' ', "");
    for section in SECTIONS {
        for prefix in [
            format!("c.{section}."),
            format!("c[\"{section}\"]."),
            format!("c['{section}']."),
            format!("get_config().{section}."),
        ] {
            if let Some(rest) = t.strip_prefix(&prefix) {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if name.is_empty() {
                    return None;
                }
                return Some((name.clone(), rest[name.len()..].to_string()));
            }
        }
    }
    None
}

/// Splits `target OP value` at the first top-level assignment operator.
fn assignment(t: &str) -> Option<(String, &'static str, String)> {
    let chars: Vec<char> = t.chars().collect();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            if c == '\\' {
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            '=' if depth == 0 => {
                let prev = if i > 0 { chars[i - 1] } else { ' ' };
                let next = chars.get(i + 1).copied().unwrap_or(' ');
                if next == '=' || matches!(prev, '=' | '!' | '<' | '>') {
                    i += 2;
                    continue;
                }
                let (op, cut) = match prev {
                    '+' => ("+=", i - 1),
                    '-' => ("-=", i - 1),
                    '|' => ("|=", i - 1),
                    '*' | '/' | '%' | '&' | '^' => ("op=", i - 1),
                    _ => ("=", i),
                };
                let target: String = chars[..cut].iter().collect();
                let value: String = chars[i + 1..].iter().collect();
                let target = target.trim().to_string();
                // `def f(x=1):`, `lambda x=1:` and keyword arguments are not assignments.
                if target.contains('(')
                    || target.starts_with("def ")
                    || target.contains(' ') && !target.contains('[')
                {
                    return None;
                }
                return Some((target, op, value.trim().to_string()));
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Splits at a top-level separator; `None` when there is none.
fn split_top(t: &str, sep: char) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in t.chars() {
        if let Some(q) = quote {
            cur.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if c == sep && depth == 0 {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    if parts.is_empty() {
        return None;
    }
    parts.push(cur);
    Some(
        parts
            .into_iter()
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path() -> Vec<String> {
        vec!["hub".into(), "extraConfig".into(), "x".into()]
    }

    #[test]
    fn literal_assignment_is_read() {
        let e = scan(&path(), "c.KubeSpawner.privileged = True\n");
        assert_eq!(
            e,
            vec![Effect::Set {
                name: "privileged".into(),
                value: Some(json!(true)),
                at: PyLine {
                    path: path(),
                    line: 1,
                    text: "c.KubeSpawner.privileged = True".into()
                }
            }]
        );
    }

    #[test]
    fn multi_line_dict_is_one_statement_with_its_first_line() {
        let code = "import os\n\nc.KubeSpawner.container_security_context = {\n    \"runAsUser\": 0,  # root\n    'privileged': True,\n}\n";
        let e = scan(&path(), code);
        assert_eq!(e.len(), 1);
        match &e[0] {
            Effect::Set { name, value, at } => {
                assert_eq!(name, "container_security_context");
                assert_eq!(value, &Some(json!({"runAsUser": 0, "privileged": true})));
                assert_eq!(at.line, 3);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn non_literals_mutations_and_hooks() {
        let code = "def hook(spawner, pod):\n    pod.spec.init_containers.append(x)\n    return pod\nc.KubeSpawner.modify_pod_hook = hook\nc.KubeSpawner.uid = get_uid\nc.KubeSpawner.init_containers.append({'name': 'x'})\nc.KubeSpawner.environment['A'] = '1'\nc.Spawner.cpu_limit += 1\n";
        let e = scan(&path(), code);
        let kinds: Vec<String> = e
            .iter()
            .map(|e| match e {
                Effect::Set { name, value, at } => format!("set {name} {value:?} {}", at.line),
                Effect::Mutate { name, at } => format!("mutate {name} {}", at.line),
                Effect::Call {
                    name, method, at, ..
                } => format!("{method} {name} {}", at.line),
                Effect::Hook { name, at } => format!("hook {name} {}", at.line),
                Effect::Opaque { what, at } => format!("opaque {what} {}", at.line),
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                "hook modify_pod_hook 4",
                "set uid None 5",
                "append init_containers 6",
                "mutate environment 7",
                "mutate cpu_limit 8",
            ]
        );
    }

    #[test]
    fn strings_and_comments_do_not_confuse_it() {
        let code = "# c.KubeSpawner.privileged = True\nx = \"c.KubeSpawner.privileged = True\"\nc.JupyterHub.admin_access = True\n";
        assert!(scan(&path(), code).is_empty());
    }

    #[test]
    fn aliases_subclasses_and_other_spawners_are_opaque() {
        let code = "ks = c.KubeSpawner\nclass MySpawner(KubeSpawner):\n    pass\nc.JupyterHub.spawner_class = MySpawner\nsetattr(c.KubeSpawner, 'uid', 0)\n";
        let e = scan(&path(), code);
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(
            e.iter()
                .all(|e| matches!(e, Effect::Opaque { .. } | Effect::Mutate { .. }))
        );
        let lines: Vec<u32> = e.iter().map(|e| e.at().line).collect();
        assert_eq!(lines, vec![1, 4, 5]);
    }

    #[test]
    fn triple_quoted_strings_span_lines() {
        let code = "c.KubeSpawner.cmd = '''a\nc.KubeSpawner.privileged = True\n'''\nc.KubeSpawner.uid = 0\n";
        let e = scan(&path(), code);
        assert_eq!(e.len(), 2);
        assert!(
            matches!(&e[1], Effect::Set { name, value: Some(v), at } if name == "uid" && v == &json!(0) && at.line == 4)
        );
    }

    #[test]
    fn a_uid_function_of_the_user_id_is_evaluated() {
        let code = "def _uid(spawner):\n    return 300000 + int(spawner.user.id)\n\nc.KubeSpawner.uid = _uid\nc.KubeSpawner.gid = other\n";
        let e = scan(&path(), code);
        assert!(
            matches!(&e[0], Effect::Set { name, value: Some(v), .. } if name == "uid" && v == &json!(300001))
        );
        assert!(matches!(&e[1], Effect::Set { name, value: None, .. } if name == "gid"));
    }
}

//! Paths into documents: JSON pointers (`/spec/egress/allow/0`), their dotted
//! form for messages (`spec.egress.allow[0]`), and dotted values paths whose
//! `[…]` holds a key with dots (`hub.config[JupyterHub.admin_users]`).

use std::borrow::Cow;

/// Escapes one JSON-pointer segment (RFC 6901).
pub fn escape_pointer(seg: &str) -> String {
    if !seg.contains(['~', '/']) {
        return seg.to_string();
    }
    seg.replace('~', "~0").replace('/', "~1")
}

/// The inverse of [`escape_pointer`]; borrowed when there is nothing to undo.
pub fn unescape_pointer(seg: &str) -> Cow<'_, str> {
    if seg.contains('~') {
        Cow::Owned(seg.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(seg)
    }
}

/// The pointer to a chain of keys: `["a", "b/c"]` → `/a/b~1c`.
pub fn pointer<S: AsRef<str>>(keys: &[S]) -> String {
    keys.iter()
        .map(|k| format!("/{}", escape_pointer(k.as_ref())))
        .collect()
}

/// The unescaped keys of a pointer: `/a/b~1c` → `a`, `b/c`; none for `""`.
pub fn pointer_keys(pointer: &str) -> impl Iterator<Item = Cow<'_, str>> {
    pointer.split('/').skip(1).map(unescape_pointer)
}

/// `/spec/egress/allow/0/cidr` → `spec.egress.allow[0].cidr`.
pub fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer_keys(pointer) {
        if seg.chars().all(|c| c.is_ascii_digit()) && !seg.is_empty() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    if out.is_empty() {
        "(top level)".into()
    } else {
        out
    }
}

/// Splits a dotted values path into keys; `[…]` holds a key with dots.
pub fn values_path(dotted: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = dotted.chars();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            '[' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                out.push(chars.by_ref().take_while(|c| *c != ']').collect());
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The inverse of [`values_path`]: keys joined with dots, bracketed where a
/// key contains a dot (or is empty), and list indices as `[N]`.
pub fn dotted_values_path<S: AsRef<str>>(keys: &[S]) -> String {
    let mut out = String::new();
    for k in keys {
        let k = k.as_ref();
        if k.contains('.')
            || k.is_empty()
            || k.contains('[')
            || k.chars().all(|c| c.is_ascii_digit())
        {
            out.push_str(&format!("[{k}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(k);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths() {
        assert_eq!(
            dotted("/spec/egress/allow/0/cidr"),
            "spec.egress.allow[0].cidr"
        );
        assert_eq!(dotted("/a~1b"), "a/b");
        assert_eq!(dotted(""), "(top level)");
    }

    #[test]
    fn pointers_round_trip() {
        let keys = ["hub", "a/b", "c~d", ""];
        let ptr = pointer(&keys);
        assert_eq!(ptr, "/hub/a~1b/c~0d/");
        assert_eq!(pointer_keys(&ptr).collect::<Vec<_>>(), keys);
        assert_eq!(pointer_keys("").count(), 0);
        // `~01` is an escaped `~` followed by `1`, not a slash.
        assert_eq!(unescape_pointer("~01"), "~1");
    }
}

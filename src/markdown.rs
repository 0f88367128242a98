//! Escaping for the Markdown the reports print (audit and check reports, the
//! diff's PR comment, the control reference). Every piece of text that comes
//! from a user's files — keys, values, names, messages quoting them — goes
//! through one of these, so it cannot close a table cell, a code span or a
//! fence, or open HTML in a forge's comment.

/// Running text on one line: whitespace collapsed, table pipes escaped,
/// angle brackets as entities (no HTML tag can open).
pub fn text(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A code span that survives any backticks in `s`, and table pipes.
pub fn code(s: &str) -> String {
    let ticks = "`".repeat(longest_run(s, '`') + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!(
        "{ticks}{pad}{}{pad}{ticks}",
        s.replace(['\n', '\r'], " ").replace('|', "\\|")
    )
}

/// A fence for a block holding `s`: longer than any backtick run inside
/// (and at least three), so the block cannot be closed early.
pub fn fence(s: &str) -> String {
    "`".repeat(
        s.lines()
            .map(|l| longest_run(l, '`'))
            .max()
            .unwrap_or(0)
            .max(2)
            + 1,
    )
}

/// Text inside HTML (`<summary>`, `<code>`).
pub fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        cur = if c == ch { cur + 1 } else { 0 };
        best = best.max(cur);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_stays_in_its_cell_and_opens_no_tag() {
        assert_eq!(
            text("a | b\n<img src=x>\r\n  c"),
            "a \\| b &lt;img src=x&gt; c"
        );
    }

    #[test]
    fn code_spans_outgrow_the_backticks_inside() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a``b"), "```a``b```");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a|b\nc"), "`a\\|b c`");
    }

    #[test]
    fn fences_outgrow_the_block() {
        assert_eq!(fence("plain"), "```");
        assert_eq!(fence("x: ````\n"), "`````");
    }

    #[test]
    fn html_escapes_ampersands_first() {
        assert_eq!(html("<a&b>"), "&lt;a&amp;b&gt;");
    }
}

//! Diff reports as text (terminals, CI logs), Markdown (PR comments) and JSON.

use super::{Direction, FileStatus, Report};

/// Hidden line a bot searches for to update its own comment.
pub fn marker(name: Option<&str>) -> String {
    match name {
        Some(n) => format!("<!-- z2jh-policy diff: {} -->", n.replace("--", "- -")),
        None => "<!-- z2jh-policy diff -->".into(),
    }
}

fn status_word(r: &Report, s: FileStatus) -> &'static str {
    match (r.mode, s) {
        ("drift", FileStatus::Added) => "extra: committed but not produced by the policy",
        ("drift", FileStatus::Removed) => "missing: produced by the policy but not committed",
        (_, FileStatus::Added) => "added",
        (_, FileStatus::Removed) => "removed",
        (_, FileStatus::Changed) => "changed",
    }
}

fn headline(r: &Report) -> String {
    if !r.has_differences() {
        return "no differences".into();
    }
    let (w, s, n) = (
        r.count(Direction::Weakens),
        r.count(Direction::Strengthens),
        r.count(Direction::Neutral),
    );
    format!(
        "{w} weakening, {s} strengthening, {n} neutral control change{}; {} file{} differ{}",
        if w + s + n == 1 { "" } else { "s" },
        r.files.len(),
        if r.files.len() == 1 { "" } else { "s" },
        if r.files.len() == 1 { "s" } else { "" }
    )
}

/// Plain text, optionally with ANSI colour.
pub fn text(r: &Report, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = format!(
        "z2jh-policy diff: {}\n  before: {}\n  after:  {}\n",
        headline(r),
        r.before,
        r.after
    );
    if !r.has_differences() {
        return out;
    }
    out.push_str("\nSecurity posture\n");
    for p in &r.posture {
        let mark = if p.before == p.after { "  " } else { "* " };
        out.push_str(&format!(
            "  {mark}{:<30} {} → {}\n",
            p.aspect, p.before, p.after
        ));
    }
    if !r.controls.is_empty() {
        out.push_str("\nControl changes\n");
        for c in &r.controls {
            let tag = match c.direction {
                Direction::Weakens => paint("31;1", "WEAKENS    "),
                Direction::Strengthens => paint("32", "strengthens"),
                Direction::Neutral => "neutral    ".to_string(),
            };
            out.push_str(&format!(
                "  {tag} {} ({}): {} → {}\n              {}\n",
                c.field, c.control, c.before, c.after, c.rationale
            ));
        }
    }
    for f in &r.files {
        out.push_str(&format!("\n{} ({})\n", f.path, status_word(r, f.status)));
        for line in f.diff.lines() {
            let l = match line.as_bytes().first() {
                Some(b'+') if !line.starts_with("+++") => paint("32", line),
                Some(b'-') if !line.starts_with("---") => paint("31", line),
                Some(b'@') => paint("36", line),
                _ => line.to_string(),
            };
            out.push_str(&l);
            out.push('\n');
        }
    }
    out
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'"))
}

/// Markdown for a PR comment, never longer than `max_chars`.
pub fn markdown(r: &Report, marker_line: &str, max_chars: usize) -> String {
    let mut head = format!("{marker_line}\n");
    let verdict = if r.count(Direction::Weakens) > 0 {
        "⚠️ **This change weakens security**"
    } else if r.has_differences() {
        "No security weakening"
    } else {
        "No differences"
    };
    head.push_str(&format!(
        "### z2jh-policy: {verdict}\n\n{} — {} → {}\n\n",
        headline(r),
        md_escape(&r.before),
        md_escape(&r.after)
    ));
    if r.has_differences() {
        head.push_str("| Posture | Before | After |\n|---|---|---|\n");
        for p in &r.posture {
            let changed = if p.before == p.after {
                ""
            } else {
                " **(changed)**"
            };
            head.push_str(&format!(
                "| {}{changed} | {} | {} |\n",
                p.aspect,
                code(&p.before),
                code(&p.after)
            ));
        }
        head.push('\n');
    }
    if !r.controls.is_empty() {
        head.push_str(
            "| | Control | Field | Before | After | Why it matters |\n|---|---|---|---|---|---|\n",
        );
        for c in &r.controls {
            let icon = match c.direction {
                Direction::Weakens => "🔻 weakens",
                Direction::Strengthens => "🔺 strengthens",
                Direction::Neutral => "neutral",
            };
            head.push_str(&format!(
                "| {icon} | {} | {} | {} | {} | {} |\n",
                md_escape(c.title),
                code(&c.field),
                code(&c.before),
                code(&c.after),
                md_escape(&c.rationale)
            ));
        }
        head.push('\n');
    }
    let note_room = 400;
    let mut body = String::new();
    let mut omitted = Vec::new();
    for f in &r.files {
        let fence = if f.diff.contains("```") {
            "~~~~"
        } else {
            "```"
        };
        let block = format!(
            "<details><summary>{} — {} (+{} −{})</summary>\n\n{fence}diff\n{}{fence}\n\n</details>\n\n",
            code(&f.path),
            status_word(r, f.status),
            f.added_lines,
            f.removed_lines,
            f.diff
        );
        if head.len() + body.len() + block.len() + note_room <= max_chars {
            body.push_str(&block);
        } else {
            omitted.push(format!(
                "{} (+{} −{})",
                f.path, f.added_lines, f.removed_lines
            ));
        }
    }
    let mut out = head;
    if out.len() + note_room > max_chars {
        // Even the tables are too long: cut at a line boundary.
        let cut = out[..max_chars.saturating_sub(note_room)]
            .rfind('\n')
            .unwrap_or(0);
        out.truncate(cut + 1);
        out.push_str("\n> ✂️ The summary was cut to fit a comment; run `z2jh-policy diff --format text` for the full report.\n");
        return out;
    }
    out.push_str(&body);
    if !omitted.is_empty() {
        out.push_str(&format!(
            "> ✂️ Diffs left out to stay under {max_chars} characters: {}. Run `z2jh-policy diff --format text` to see them.\n",
            omitted.join(", ")
        ));
    }
    out
}

/// JSON for other tools: the report as data.
pub fn json(r: &Report) -> String {
    serde_json::to_string_pretty(r).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{FileChange, PostureRow};

    fn big_report(files: usize) -> Report {
        Report {
            mode: "policies",
            before: "a.yaml".into(),
            after: "b.yaml".into(),
            posture: vec![PostureRow {
                aspect: "Egress reach",
                before: "none".into(),
                after: "internet".into(),
            }],
            controls: vec![],
            files: (0..files)
                .map(|i| FileChange {
                    path: format!("f{i}.yaml"),
                    status: FileStatus::Changed,
                    diff: "+x\n".repeat(5000),
                    added_lines: 5000,
                    removed_lines: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn markdown_stays_under_the_comment_limit() {
        let md = markdown(&big_report(20), &marker(None), 65_000);
        assert!(md.len() <= 65_000, "{}", md.len());
        assert!(md.starts_with("<!-- z2jh-policy diff -->\n"));
        assert!(md.contains("Diffs left out"));
        assert!(md.contains("f19.yaml"));
    }
}

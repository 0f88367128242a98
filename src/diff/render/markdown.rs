//! Markdown for a PR comment: a hidden marker line (so a bot updates its
//! comment instead of adding one), the verdict, the posture and control
//! tables, then each file's diff in a collapsed `<details>` block.
//!
//! The output never exceeds `max_chars`, measured in UTF-8 bytes (never
//! fewer than the characters a forge counts): diffs that do not fit are cut
//! at a line, later ones left out, and a closing note says how many lines
//! are missing and where the full report is.

use super::{counts, exception_lines, expiring_heading, sides, verdict};
use crate::diff::{Direction, FileChange, Report};
use crate::markdown::{code, fence, html, text as cell};

/// What the caller knows beyond the report.
#[derive(Debug, Clone)]
pub struct MarkdownOptions<'a> {
    /// The first line, from [`super::marker`].
    pub marker: &'a str,
    /// Longest output, in bytes.
    pub max_chars: usize,
    /// The command that prints the full report, for the truncation note.
    pub rerun: &'a str,
    /// Where the full report can be read (e.g. the CI run), if anywhere.
    pub full_report_url: Option<&'a str>,
}

fn icon(d: Direction) -> &'static str {
    match d {
        Direction::Weakens => "🔻 weaker",
        Direction::Strengthens => "🔺 stronger",
        Direction::Neutral => "changed",
    }
}

/// Everything before the diffs.
fn head(r: &Report, marker: &str) -> String {
    let (before, after) = sides(r);
    let badge = match (r.has_differences(), r.weakens()) {
        (false, _) => "✅ ",
        (true, true) => "🔻 ",
        (true, false) => "",
    };
    let mut out = format!("{marker}\n### {badge}z2jh-policy: {}\n\n", verdict(r));
    out.push_str(&format!(
        "**{}:** {} · **{}:** {}\n",
        capitalise(before),
        code(&r.before),
        after,
        code(&r.after)
    ));
    let expiring = |out: &mut String| {
        if !r.expiring.is_empty() {
            out.push_str(&format!("\n\n**{}:**\n\n", expiring_heading(r)));
            for e in &r.expiring {
                out.push_str(&format!(
                    "- ⏳ {}\n",
                    cell(&crate::diff::exceptions::describe(e))
                ));
            }
        }
    };
    if !r.has_differences() {
        expiring(&mut out);
        return out;
    }
    out.push_str(&format!("\n{}", cell(&counts(r))));
    if let Some(cmd) = &r.regenerate {
        out.push_str(&format!(" · regenerate with {}", code(cmd)));
    }
    expiring(&mut out);
    out.push_str(&format!(
        "\n\n| Security posture | {} | {} | |\n|---|---|---|---|\n",
        capitalise(before),
        capitalise(after)
    ));
    for p in &r.posture {
        let (name, mark) = match p.direction {
            Some(d) => (format!("**{}**", cell(&p.aspect)), icon(d)),
            None => (cell(&p.aspect), ""),
        };
        out.push_str(&format!(
            "| {name} | {} | {} | {mark} |\n",
            code(&p.before),
            code(&p.after)
        ));
    }
    if !r.controls.is_empty() {
        out.push_str(
            &format!(
                "\n| | Control | Policy field | {} | {} | Now | Why it matters |\n|---|---|---|---|---|---|---|\n",
                capitalise(before),
                capitalise(after)
            ),
        );
        for c in &r.controls {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                icon(c.direction),
                cell(c.title),
                code(&c.field),
                code(&c.before.label()),
                code(&c.after.label()),
                cell(&c.after.summary),
                cell(&c.rationale)
            ));
        }
    }
    if !r.exceptions.is_empty() {
        out.push_str("\n| | Exception change |\n|---|---|\n");
        for (d, line) in exception_lines(r) {
            out.push_str(&format!("| {} | {} |\n", icon(d), cell(&line)));
        }
    }
    out.push('\n');
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A file's diff block, keeping at most `lines` lines of the diff.
fn block(f: &FileChange, lines: usize) -> String {
    let all: Vec<&str> = f.diff.lines().collect();
    let shown = &all[..lines.min(all.len())];
    let fence = fence(&shown.join("\n"));
    let mut out = format!(
        "<details><summary><code>{}</code> {} (+{} −{})</summary>\n\n{fence}diff\n",
        html(&f.path),
        html(f.status.describe()),
        f.added_lines,
        f.removed_lines
    );
    for l in shown {
        out.push_str(l);
        out.push('\n');
    }
    out.push_str(&fence);
    out.push_str("\n\n");
    if shown.len() < all.len() {
        out.push_str(&format!(
            "_✂️ {} more lines of this diff are not shown._\n\n",
            all.len() - shown.len()
        ));
    }
    out.push_str("</details>\n\n");
    out
}

/// The closing note when something was left out.
fn note(o: &MarkdownOptions, left_out: usize, total: usize, files: &[String]) -> String {
    let mut s = format!(
        "> ✂️ **Shortened to fit a comment** ({} characters at most): {left_out} of {total} diff lines are not shown ({}).",
        o.max_chars,
        files.join(", ")
    );
    if let Some(url) = o.full_report_url {
        s.push_str(&format!(" Full report: {}.", html(url)));
    }
    s.push_str(&format!(
        " To see everything, run {}.\n",
        code(&format!("{} --format text", o.rerun))
    ));
    s
}

/// Builds the comment with at most `budget` bytes of diff blocks, and the
/// note when something was left out.
fn build(r: &Report, o: &MarkdownOptions, head: &str, budget: usize) -> String {
    let total: usize = r.files.iter().map(|f| f.diff.lines().count()).sum();
    let mut body = String::new();
    let mut left_out = 0;
    let mut cut = Vec::new();
    let mut full = true;
    for f in &r.files {
        let n = f.diff.lines().count();
        if full {
            let whole = block(f, n);
            if body.len() + whole.len() <= budget {
                body.push_str(&whole);
                continue;
            }
            full = false;
            // As many lines as fit; the block's frame costs the same either way.
            let mut keep = 0;
            let mut size = block(f, 0).len();
            for l in f.diff.lines() {
                if body.len() + size + l.len() + 1 > budget {
                    break;
                }
                size += l.len() + 1;
                keep += 1;
            }
            // A few lines of a diff say little; leave it out whole instead.
            if keep >= 5 {
                body.push_str(&block(f, keep));
                left_out += n - keep;
                cut.push(format!("{} partly", code(&f.path)));
                continue;
            }
        }
        left_out += n;
        cut.push(code(&f.path));
    }
    let mut out = format!("{head}{body}");
    if left_out > 0 {
        out.push_str(&note(o, left_out, total, &cut));
    }
    out
}

/// Cuts `s` to at most `max` bytes at a line end (never inside a character).
fn cut_lines(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let end = s.floor_char_boundary(max);
    match s[..end].rfind('\n') {
        Some(i) => &s[..=i],
        None => "",
    }
}

/// The comment, never longer than `o.max_chars` bytes.
pub fn markdown(r: &Report, o: &MarkdownOptions) -> String {
    let head = head(r, o.marker);
    // The note's length depends on what it lists: shrink the budget until
    // the whole comment fits.
    let mut budget = o.max_chars.saturating_sub(head.len());
    loop {
        let out = build(r, o, &head, budget);
        if out.len() <= o.max_chars {
            return out;
        }
        if budget == 0 {
            break;
        }
        budget = budget.saturating_sub((out.len() - o.max_chars).max(64));
    }
    // Even the tables do not fit: keep the lines that do, then the note.
    let files: Vec<String> = r.files.iter().map(|f| code(&f.path)).collect();
    let total = r.files.iter().map(|f| f.diff.lines().count()).sum();
    let mut tail = note(o, total, total, &files);
    tail.insert_str(0, "\n> ✂️ The summary tables were cut too.\n");
    let mut out = cut_lines(&head, o.max_chars.saturating_sub(tail.len())).to_string();
    out.push_str(&tail);
    if out.len() > o.max_chars {
        // A limit too small for the note: the marker line at least.
        out = cut_lines(&out, o.max_chars).to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{FileStatus, Mode, PostureRow};

    fn big_report(files: usize, lines: usize) -> Report {
        Report {
            mode: Mode::Policies,
            before: "a.yaml".into(),
            after: "b.yaml".into(),
            posture: vec![PostureRow {
                aspect: "Egress from user pods".into(),
                control: Some("egress"),
                before: "none".into(),
                after: "internet".into(),
                direction: Some(Direction::Weakens),
            }],
            controls: vec![],
            exceptions: vec![],
            expiring: vec![],
            expiring_within: 30,
            files: (0..files)
                .map(|i| FileChange {
                    path: format!("f{i}.yaml"),
                    status: FileStatus::Changed,
                    diff: format!("--- a/f{i}.yaml\n+++ b/f{i}.yaml\n@@ -1 +1 @@\n")
                        + &"+é ``` x\n".repeat(lines),
                    added_lines: lines,
                    removed_lines: 0,
                })
                .collect(),
            regenerate: None,
        }
    }

    fn opts(max: usize) -> MarkdownOptions<'static> {
        MarkdownOptions {
            marker: "<!-- z2jh-policy diff -->",
            max_chars: max,
            rerun: "z2jh-policy diff b.yaml --base a.yaml",
            full_report_url: Some("https://ci.example.org/run/1"),
        }
    }

    #[test]
    fn stays_under_the_limit_and_says_what_is_missing() {
        for max in [1000, 3000, 65_000] {
            let md = markdown(&big_report(6, 4000), &opts(max));
            assert!(md.len() <= max, "{max}: {}", md.len());
            assert!(md.starts_with("<!-- z2jh-policy diff -->\n"));
            assert!(md.contains("Shortened to fit a comment"), "{md}");
        }
        let md = markdown(&big_report(6, 4000), &opts(65_000));
        assert!(
            md.contains("<code>f0.yaml</code>"),
            "the first diff fits whole"
        );
        assert!(md.contains("`f1.yaml` partly"), "the second is cut");
        assert!(md.contains("`f5.yaml`"));
        assert!(md.contains("https://ci.example.org/run/1"));
        // Every opened fence is closed, and the fence outgrows the content's backticks.
        assert_eq!(
            md.matches("````diff").count(),
            md.matches("\n````\n").count()
        );
    }

    #[test]
    fn small_reports_are_whole() {
        let md = markdown(&big_report(2, 3), &opts(65_000));
        assert!(!md.contains("Shortened"));
        assert_eq!(md.matches("<details>").count(), 2);
        assert!(
            md.contains("\n\n````diff\n"),
            "blank line before the fence: {md}"
        );
        assert!(md.contains("\n````\n\n</details>"), "{md}");
    }

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x`y"), "``x`y``");
        assert_eq!(code("`y"), "`` `y ``");
    }
}

//! Plain text for terminals and CI logs: verdict, posture, control changes,
//! then every file's unified diff, in full. ANSI colour only when asked.

use super::{counts, exception_lines, expiring_heading, sides, verdict};
use crate::diff::{Direction, Report};

struct Paint(bool);

impl Paint {
    fn code(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn direction(&self, d: Direction, s: &str) -> String {
        match d {
            Direction::Weakens => self.code("1;31", s),
            Direction::Strengthens => self.code("32", s),
            Direction::Neutral => s.to_string(),
        }
    }
}

fn word(d: Direction) -> &'static str {
    match d {
        Direction::Weakens => "weaker",
        Direction::Strengthens => "stronger",
        Direction::Neutral => "changed",
    }
}

/// The whole report as text; `color` adds ANSI escapes.
pub fn text(r: &Report, color: bool) -> String {
    let paint = Paint(color);
    let (before, after) = sides(r);
    let mut out = format!("{}: {}\n", paint.code("1", "z2jh-policy diff"), verdict(r));
    let w = before.len().max(after.len()) + 1;
    out.push_str(&format!("  {:<w$} {}\n", format!("{before}:"), r.before));
    out.push_str(&format!("  {:<w$} {}\n", format!("{after}:"), r.after));
    let expiring = |out: &mut String| {
        if !r.expiring.is_empty() {
            out.push_str(&format!("\n{}\n", paint.code("1", &expiring_heading(r))));
            for e in &r.expiring {
                out.push_str(&format!("  {}\n", crate::diff::exceptions::describe(e)));
            }
        }
    };
    if !r.has_differences() {
        expiring(&mut out);
        return out;
    }
    out.push_str(&format!("  {}\n", counts(r)));
    if let Some(cmd) = &r.regenerate {
        out.push_str(&format!("  to regenerate the committed files: {cmd}\n"));
    }
    expiring(&mut out);

    out.push_str(&format!("\n{}\n", paint.code("1", "Security posture")));
    let width = r
        .posture
        .iter()
        .map(|p| p.aspect.chars().count())
        .max()
        .unwrap_or(0);
    for p in &r.posture {
        let pad = " ".repeat(width - p.aspect.chars().count());
        let line = match p.direction {
            None => format!("    {}{pad}  {}", p.aspect, p.after),
            Some(d) => paint.direction(
                d,
                &format!(
                    "  * {}{pad}  {} → {} ({})",
                    p.aspect,
                    p.before,
                    p.after,
                    word(d)
                ),
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }

    if !r.controls.is_empty() {
        out.push_str(&format!("\n{}\n", paint.code("1", "Control changes")));
        for c in &r.controls {
            let tag = format!("{:<11}", c.direction.as_str().to_uppercase());
            out.push_str(&format!(
                "  {} {} ({})\n",
                paint.direction(c.direction, &tag),
                c.title,
                c.field
            ));
            let indent = " ".repeat(14);
            out.push_str(&format!(
                "{indent}{} → {}\n",
                c.before.label(),
                c.after.label()
            ));
            out.push_str(&format!("{indent}now: {}\n", c.after.summary));
            out.push_str(&format!("{indent}why: {}\n", c.rationale));
        }
    }

    if !r.exceptions.is_empty() {
        out.push_str(&format!("\n{}\n", paint.code("1", "Exception changes")));
        for (d, line) in exception_lines(r) {
            let tag = format!("{:<11}", d.as_str().to_uppercase());
            out.push_str(&format!("  {} {line}\n", paint.direction(d, &tag)));
        }
    }

    for f in &r.files {
        out.push_str(&format!(
            "\n{} {} (+{} −{})\n",
            paint.code("1", &f.path),
            f.status.describe(),
            f.added_lines,
            f.removed_lines
        ));
        for line in f.diff.lines() {
            let l = if line.starts_with("+++") || line.starts_with("---") {
                paint.code("1", line)
            } else if line.starts_with('+') {
                paint.code("32", line)
            } else if line.starts_with('-') {
                paint.code("31", line)
            } else if line.starts_with("@@") {
                paint.code("36", line)
            } else {
                line.to_string()
            };
            out.push_str(&l);
            out.push('\n');
        }
    }
    out
}

//! Diagnostics: errors, warnings and notes with a source location, rendered
//! for people (source line and caret, like rustc) or as JSON for machines.

use serde::Serialize;

use crate::yaml::Pos;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// Where a diagnostic points: a file, a 1-based line and column, and the
/// text of that line (copied so rendering needs nothing else).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Loc {
    pub file: String,
    pub line: u32,
    pub column: u32,
    #[serde(skip)]
    pub source_line: Option<String>,
}

impl Loc {
    pub fn new(file: &str, text: &str, pos: Pos) -> Self {
        let source_line = (pos.line > 0)
            .then(|| text.lines().nth(pos.line as usize - 1))
            .flatten()
            .map(|l| l.chars().take(200).collect());
        Loc {
            file: file.to_string(),
            line: pos.line,
            column: pos.column,
            source_line,
        }
    }

    /// A location naming only a file (no line applies).
    pub fn file(file: &str) -> Self {
        Loc {
            file: file.to_string(),
            line: 0,
            column: 0,
            source_line: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Loc>,
    /// Extra locations (e.g. the parent policy's setting a child weakens).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Loc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The control this is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<&'static str>,
}

impl Diagnostic {
    pub fn new(severity: Severity, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            message: message.into(),
            location: None,
            related: Vec::new(),
            help: None,
            control: None,
        }
    }
    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Severity::Error, message)
    }
    pub fn warning(message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, message)
    }
    pub fn note(message: impl Into<String>) -> Self {
        Self::new(Severity::Note, message)
    }
    pub fn at(mut self, loc: Loc) -> Self {
        self.location = Some(loc);
        self
    }
    pub fn at_opt(mut self, loc: Option<Loc>) -> Self {
        self.location = loc;
        self
    }
    pub fn related(mut self, loc: Loc) -> Self {
        self.related.push(loc);
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn control(mut self, id: &'static str) -> Self {
        self.control = Some(id);
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ErrorFormat {
    /// Source line and caret, for people.
    #[default]
    Human,
    /// One JSON object per line, for tools.
    Json,
}

/// Renders one diagnostic for people.
pub fn render_human(d: &Diagnostic) -> String {
    let mut out = format!("{}: {}\n", d.severity.as_str(), d.message);
    if let Some(loc) = &d.location {
        render_loc(&mut out, loc, "-->");
    }
    for loc in &d.related {
        render_loc(&mut out, loc, ":::");
    }
    if let Some(help) = &d.help {
        out.push_str(&format!("  = help: {help}\n"));
    }
    out
}

fn render_loc(out: &mut String, loc: &Loc, arrow: &str) {
    if loc.line == 0 {
        out.push_str(&format!("  {arrow} {}\n", loc.file));
        return;
    }
    out.push_str(&format!(
        "  {arrow} {}:{}:{}\n",
        loc.file, loc.line, loc.column
    ));
    if let Some(src) = &loc.source_line {
        let num = loc.line.to_string();
        let pad = " ".repeat(num.len());
        let caret_pad: String = src
            .chars()
            .take(loc.column.saturating_sub(1) as usize)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        out.push_str(&format!("{pad} |\n{num} | {src}\n{pad} | {caret_pad}^\n"));
    }
}

/// Renders one diagnostic as a single JSON line.
pub fn render_json(d: &Diagnostic) -> String {
    serde_json::to_string(d)
        .unwrap_or_else(|e| format!("{{\"severity\":\"error\",\"message\":\"{e}\"}}"))
}

pub fn render(d: &Diagnostic, format: ErrorFormat) -> String {
    match format {
        ErrorFormat::Human => render_human(d),
        ErrorFormat::Json => render_json(d) + "\n",
    }
}

/// Closest candidate by edit distance, for "did you mean" hints.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.len() / 3).max(1) + 1;
    let word = word.to_lowercase();
    let len = word.chars().count();
    candidates
        .into_iter()
        // The length difference is a lower bound of the distance: a word
        // far longer than every candidate (a pasted blob) costs nothing.
        .filter(|c| len.abs_diff(c.chars().count()) <= limit)
        .map(|c| (levenshtein(&word, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_column() {
        let d = Diagnostic::error("unknown key `egres`")
            .at(Loc::new(
                "p.yaml",
                "a: 1\n  egres: x\n",
                Pos { line: 2, column: 3 },
            ))
            .help("did you mean `egress`?");
        assert_eq!(
            render_human(&d),
            "error: unknown key `egres`\n  --> p.yaml:2:3\n  |\n2 |   egres: x\n  |   ^\n  = help: did you mean `egress`?\n"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(suggest("egres", ["egress", "bandwidth"]), Some("egress"));
        assert_eq!(suggest("zzz", ["egress", "bandwidth"]), None);
        // A blob far longer than any candidate is no near miss.
        assert_eq!(suggest(&"egress".repeat(20_000), ["egress"]), None);
        assert_eq!(suggest("EGRES", ["egress"]), Some("egress"));
    }
}

//! A [`Report`] as text for people, JSON for tools, and Markdown for pull
//! requests and wikis. SARIF lives in [`super::sarif`].

use std::fmt::Write as _;

use super::{Finding, Report, Severity, Status};
use crate::markdown::{self as md, code, fence};

/// Output formats of `check` and `audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
    Markdown,
    Sarif,
}

pub fn render(r: &Report, f: Format) -> String {
    match f {
        Format::Text => text(r),
        Format::Json => json(r),
        Format::Markdown => markdown(r),
        Format::Sarif => super::sarif::render(r),
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// One line saying how it went.
pub fn summary(r: &Report) -> String {
    let unverified = r
        .findings
        .iter()
        .filter(|f| f.status == Status::CannotVerify)
        .count();
    let v = r.violations();
    let mut s = if v == 0 {
        "no findings".to_string()
    } else {
        let sev: Vec<String> = [Severity::High, Severity::Medium, Severity::Low]
            .iter()
            .map(|s| (r.count(*s), s.as_str()))
            .filter(|(n, _)| *n > 0)
            .map(|(n, s)| format!("{n} {s}"))
            .collect();
        format!("{} ({})", plural(v, "finding"), sev.join(", "))
    };
    if r.excepted() > 0 {
        let _ = write!(s, ", {} excepted", r.excepted());
    }
    if unverified > 0 {
        let _ = write!(s, ", {} cannot be verified", plural(unverified, "control"));
    }
    let _ = write!(s, ", {} hold", plural(r.holds.len(), "control"));
    s
}

fn header(r: &Report) -> String {
    format!(
        "z2jh-policy {}: {} against {}\n  defaults: {}\n  {}\n",
        r.command,
        r.values
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(" + "),
        r.policy,
        r.defaults,
        summary(r)
    )
}

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| format!("{by}{l}\n"))
        .collect::<String>()
}

fn status_word(f: &Finding) -> &'static str {
    match f.status {
        Status::CannotVerify => "CANNOT VERIFY",
        Status::Excepted => "EXCEPTED",
        _ => match f.severity {
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
            Severity::Info => "INFO",
        },
    }
}

pub fn text(r: &Report) -> String {
    let mut out = header(r);
    for f in &r.findings {
        let _ = writeln!(out, "\n{}  {}  {}", status_word(f), f.id, f.title);
        let _ = writeln!(out, "  {}", f.message);
        let _ = writeln!(
            out,
            "  required:  {} — {}  (policy `{}`)",
            f.required.label(),
            f.required.summary,
            f.policy_field
        );
        if let Some(found) = &f.found {
            let _ = writeln!(out, "  found:     {} — {}", found.label(), found.summary);
        }
        if let Some(e) = &f.exception {
            let _ = writeln!(out, "  exception: {}", exception_line(e));
        }
        match &f.evidence {
            Some(e) => {
                let from = if e.chart_default {
                    " (chart default)"
                } else {
                    ""
                };
                let _ = writeln!(out, "  at:        {}{from}  {}", e.place(), e.setting());
            }
            None => {
                let _ = writeln!(out, "  at:        {}", no_evidence(f));
            }
        }
        if let Some(fix) = &f.fix {
            if !fix.yaml.is_empty() {
                let _ = writeln!(out, "  fix:");
                out.push_str(&indent(&fix.yaml, "    "));
            }
            if !fix.manifests.is_empty() {
                let _ = writeln!(out, "  apply:     {}", fix.manifests.join(", "));
            }
        }
        for t in &f.tradeoffs {
            let lines: Vec<String> = t
                .trim_end()
                .lines()
                .map(|l| {
                    if l.is_empty() {
                        String::new()
                    } else {
                        format!("    {l}")
                    }
                })
                .collect();
            let _ = writeln!(out, "  trade-off: {}", lines.join("\n").trim_start());
        }
    }
    if !r.holds.is_empty() {
        let _ = writeln!(out, "\nholds: {}", r.holds.join(", "));
    }
    out
}

/// An exception in one line: scope, allowed setting, owner, expiry, reason.
fn exception_line(e: &crate::exceptions::View) -> String {
    let left = e.days_left.map_or(String::new(), |d| {
        format!(", {}", crate::exceptions::left(d))
    });
    format!(
        "{} may be `{}` for {}, owner `{}`, until {}{left}: {}",
        e.control, e.allow, e.scope, e.owner, e.expires, e.reason
    )
}

/// Why a finding points nowhere.
fn no_evidence(f: &Finding) -> &'static str {
    let keys = crate::controls::by_id(f.control).map_or(0, |c| c.def().values_keys.len());
    if keys == 0 {
        "not decided by Helm values"
    } else {
        "not set in any values file (chart default)"
    }
}

pub fn json(r: &Report) -> String {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    v["summary"] = serde_json::json!({
        "violations": r.violations(),
        "high": r.count(Severity::High),
        "medium": r.count(Severity::Medium),
        "low": r.count(Severity::Low),
        "cannotVerify": r.findings.iter().filter(|f| f.status == Status::CannotVerify).count(),
        "excepted": r.excepted(),
        "holds": r.holds.len(),
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

pub fn markdown(r: &Report) -> String {
    let mut out = format!(
        "# z2jh-policy {}\n\nValues {} against {}; defaults: {}.\n\n**{}**\n",
        r.command,
        r.values
            .iter()
            .map(|v| code(v))
            .collect::<Vec<_>>()
            .join(" + "),
        md::text(&r.policy),
        md::text(&r.defaults),
        summary(r)
    );
    if !r.findings.is_empty() {
        out.push_str("\n| severity | id | found | required | where |\n|---|---|---|---|---|\n");
        for f in &r.findings {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {} |",
                status_word(f).to_lowercase(),
                f.id,
                f.found
                    .as_ref()
                    .map_or("—".to_string(), |s| code(&s.label())),
                code(&f.required.label()),
                f.evidence
                    .as_ref()
                    .map_or("—".to_string(), |e| code(&e.place()))
            );
        }
    }
    for f in &r.findings {
        let _ = writeln!(
            out,
            "\n## {} — {}\n\n{}\n",
            f.id,
            f.title,
            md::text(&f.message)
        );
        let _ = writeln!(
            out,
            "- **Required:** {} — {} (policy `{}`)",
            code(&f.required.label()),
            md::text(&f.required.summary),
            f.policy_field
        );
        if let Some(found) = &f.found {
            let _ = writeln!(
                out,
                "- **Found:** {} — {}",
                code(&found.label()),
                md::text(&found.summary)
            );
        }
        if let Some(e) = &f.exception {
            let _ = writeln!(out, "- **Exception:** {}", md::text(&exception_line(e)));
        }
        if let Some(e) = &f.evidence {
            let _ = writeln!(
                out,
                "- **Where:** {} — {}",
                code(&e.place()),
                code(&e.setting())
            );
        }
        for t in &f.tradeoffs {
            let _ = writeln!(out, "- **Trade-off:** {}", md::text(t));
        }
        if let Some(fix) = &f.fix {
            if !fix.yaml.is_empty() {
                let fence = fence(&fix.yaml);
                let _ = write!(out, "\nFix:\n\n{fence}yaml\n{}{fence}\n", fix.yaml);
            }
            if !fix.manifests.is_empty() {
                let _ = writeln!(
                    out,
                    "\nApply: {}",
                    fix.manifests
                        .iter()
                        .map(|m| code(m))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
    }
    if !r.holds.is_empty() {
        let _ = writeln!(
            out,
            "\nHolds: {}.",
            r.holds
                .iter()
                .map(|h| code(h))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out
}

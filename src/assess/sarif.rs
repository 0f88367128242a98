//! A [`Report`] as SARIF 2.1.0, the format GitHub code scanning reads.
//!
//! One rule per control (from its definition) plus one for profile
//! overrides; one result per finding, located in the values file and line
//! that decided it (relative paths against `%SRCROOT%`, so a scan run at the
//! repository root lines up with the repository's files).
//!
//! For code scanning across runs: every result carries a
//! `partialFingerprints` entry built from the rule, the file and the values
//! key (not the line, so an edit above it does not make a new alert); each
//! rule's `security-severity` comes from its definition alone (the gap
//! between its strongest and weakest setting), never from the run; a
//! finding decided by a chart default (no user file sets the key) sits on
//! line 1 of the first values file given; identical results are given once.

use serde_json::{Value, json};

use super::{Finding, Report, Severity, Status, finding_id};
use crate::controls::ALL;

const PROFILE_RULE: &str = "Z2JH-profile-override";

pub fn render(r: &Report) -> String {
    serde_json::to_string_pretty(&log(r)).unwrap_or_default() + "\n"
}

/// GitHub's `security-severity` scale (0–10).
fn score(s: Severity) -> &'static str {
    match s {
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn level(f: &Finding) -> &'static str {
    match (f.status, f.severity) {
        (Status::CannotVerify, _) => "note",
        (_, Severity::High) => "error",
        (_, Severity::Medium) => "warning",
        _ => "note",
    }
}

pub fn log(r: &Report) -> Value {
    let mut rules: Vec<Value> = ALL
        .iter()
        .map(|c| {
            let d = c.def();
            let id = finding_id(d.id);
            let settings: Vec<String> = d
                .settings
                .iter()
                .map(|s| format!("`{}` (strength {}): {}", s.name, s.rank, s.summary))
                .collect();
            let rationale = d.rationale.split_whitespace().collect::<Vec<_>>().join(" ");
            json!({
                "id": id,
                "name": d.id,
                "shortDescription": {"text": d.title},
                "fullDescription": {"text": rationale},
                "help": {
                    "text": format!("{rationale}\nPolicy field: {}. Settings, strongest first: {}", d.dotted_field(), settings.join("; ")),
                    "markdown": format!("{rationale}\n\nPolicy field: `{}`.\n\nSettings, strongest first:\n\n{}", d.dotted_field(), settings.iter().map(|s| format!("- {s}\n")).collect::<String>()),
                },
                "properties": {"tags": ["security", "kubernetes", "jupyterhub"], "security-severity": score(Severity::worst(d))},
            })
        })
        .collect();
    rules.push(json!({
        "id": PROFILE_RULE,
        "name": "profile-override",
        "shortDescription": {"text": "A profile's kubespawner_override can undo the policy"},
        "fullDescription": {"text": "kubespawner_override replaces KubeSpawner traits for the users who pick the profile, whatever the rest of the values say."},
        "help": {"text": "Remove the override, or make it as strong as the policy requires."},
        "properties": {"tags": ["security", "kubernetes", "jupyterhub"], "security-severity": score(Severity::Medium)},
    }));
    // Rules of chart-release findings, only when there are some.
    for (id, name, short, help) in [
        (
            super::advisories::ADVISORY_ID,
            "chart-advisory",
            "The chart release has a published security advisory",
            "Upgrade the chart to the release the finding names; it ships the fixed component.",
        ),
        (
            super::advisories::MINIMUM_ID,
            "chart-minimum",
            "The chart release is older than the policy's minimumChart",
            "Upgrade the chart to at least the policy's minimumChart.",
        ),
        (
            super::excepted::EXPIRED_ID,
            "exception-expired",
            "An exception of the policy has expired",
            "Meet the policy and remove the exception, or renew it with a new expiry date.",
        ),
    ] {
        if r.findings.iter().any(|f| f.id == id) {
            rules.push(json!({
                "id": id,
                "name": name,
                "shortDescription": {"text": short},
                "fullDescription": {"text": short},
                "help": {"text": help},
                "properties": {"tags": ["security", "jupyterhub"], "security-severity": score(Severity::High)},
            }));
        }
    }
    let index_of = |id: &str| rules.iter().position(|x| x["id"] == id).unwrap_or(0);
    let fallback = r.values.first().cloned().unwrap_or_default();
    let root = r.sarif_root.clone().or_else(|| {
        std::env::current_dir()
            .ok()
            .map(|d| d.display().to_string())
    });
    let mut seen = std::collections::BTreeSet::new();
    let results: Vec<Value> = r
        .findings
        .iter()
        .filter_map(|f| {
            // Chart defaults and undecided keys: line 1 of the first values file.
            let (file, line, column) = f
                .evidence
                .as_ref()
                .filter(|e| !e.chart_default)
                .map_or((fallback.as_str(), 1, 1), |e| {
                    (e.file.as_str(), e.line.max(1), e.column.max(1))
                });
            let file = relative(file, root.as_deref());
            let key = f.evidence.as_ref().map_or("", |e| e.key.as_str());
            let print = fingerprint(&[&f.id, &file, key, f.control]);
            if !seen.insert((print.clone(), f.message.clone())) {
                return None;
            }
            let mut text = f.message.clone();
            if let Some(e) = &f.evidence {
                text.push_str(&format!(" ({})", e.setting()));
            }
            if let Some(fix) = f.fix.as_ref().filter(|x| !x.yaml.is_empty()) {
                text.push_str(&format!("\nFix (values):\n{}", fix.yaml));
            }
            let mut props = json!({
                "severity": f.severity.as_str(),
                "status": f.status,
                "control": f.control,
                "required": f.required.label(),
            });
            if let Some(found) = &f.found {
                props["found"] = json!(found.label());
            }
            if !f.tradeoffs.is_empty() {
                props["tradeoffs"] = json!(f.tradeoffs);
            }
            if f.evidence.as_ref().is_none_or(|e| e.chart_default) {
                props["chartDefault"] = json!(true);
            }
            let mut result = json!({
                "ruleId": f.id,
                "ruleIndex": index_of(&f.id),
                "level": level(f),
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": artifact(&file),
                        "region": {"startLine": line, "startColumn": column},
                    }
                }],
                "partialFingerprints": {"z2jhFinding/v1": print},
                "properties": props,
            });
            // An excepted finding stays visible to code scanning, dismissed
            // as accepted with the exception's reason.
            if let (Status::Excepted, Some(e)) = (f.status, &f.exception) {
                result["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": format!("{} (owner {}, until {})", e.reason, e.owner, e.expires),
                }]);
                result["properties"]["exception"] = json!(e);
            }
            Some(result)
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "z2jh-policy",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
            "properties": {"policy": r.policy, "defaults": r.defaults, "command": r.command},
        }]
    })
}

/// A stable identity of a finding: rule, file, key and control, hashed.
fn fingerprint(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An absolute path under the root (the current directory, or
/// `--sarif-root`) becomes relative to it.
fn relative(path: &str, root: Option<&str>) -> String {
    let Some(root) = root else {
        return path.to_string();
    };
    let root = root.trim_end_matches('/');
    match path.strip_prefix(root) {
        Some(rest) if rest.starts_with('/') => rest.trim_start_matches('/').to_string(),
        _ => path.to_string(),
    }
}

/// A relative path stays relative to the source root; an absolute one
/// becomes a `file://` URI.
fn artifact(path: &str) -> Value {
    let slashed = path.replace('\\', "/");
    let slashed = slashed.strip_prefix("./").unwrap_or(&slashed).to_string();
    if slashed.starts_with('/') {
        json!({"uri": format!("file://{}", encode(&slashed))})
    } else {
        json!({"uri": encode(&slashed), "uriBaseId": "%SRCROOT%"})
    }
}

/// Percent-encodes everything but unreserved characters and `/`.
fn encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_under_the_root_become_relative_and_prints_ignore_lines() {
        assert_eq!(
            relative("/repo/deploy/v.yaml", Some("/repo")),
            "deploy/v.yaml"
        );
        assert_eq!(
            relative("/repository/v.yaml", Some("/repo")),
            "/repository/v.yaml"
        );
        assert_eq!(relative("v.yaml", Some("/repo")), "v.yaml");
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
    }

    #[test]
    fn uris_are_relative_or_file_urls() {
        assert_eq!(
            artifact("./deploy/my values.yaml"),
            json!({"uri": "deploy/my%20values.yaml", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact("/etc/v.yaml"),
            json!({"uri": "file:///etc/v.yaml"})
        );
    }
}

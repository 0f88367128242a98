//! Fuzz target: arbitrary bytes as a policy file through the whole pipeline
//! (parse → validate → lower → render → emit), as `compile` runs it.
//!
//! Invariants checked on every input:
//! - no panic, and an error result always holds at least one error, each
//!   rendering (human and JSON) without panicking;
//! - a successful compilation's files and stream parse back as YAML, hold no
//!   raw YAML 1.1 line breaks (U+0085, U+2028, U+2029), and its values pass
//!   the embedded chart schema (4.4.0 or 3.3.8 by line);
//! - the annotated values (`compile --annotate`) mean the same as the plain ones.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use z2jh_policy::chart::{ChartDir, ChartLine};
use z2jh_policy::compile::{Compiled, Options, compile};
use z2jh_policy::diag::{render_human, render_json};
use z2jh_policy::emit;
use z2jh_policy::parse::Input;
use z2jh_policy::validate::chart_values::{ValuesFile, validate_against_chart};
use z2jh_policy::yaml;

/// Relative `extends` resolve here, so `../_common/site.yaml` (the golden cases' parent) works.
const BASE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../golden/fuzz");

fn chart(line: ChartLine) -> &'static ChartDir {
    static V4: OnceLock<ChartDir> = OnceLock::new();
    static V3: OnceLock<ChartDir> = OnceLock::new();
    let (cell, version) = match line {
        ChartLine::V3 => (&V3, "3.3.8"),
        ChartLine::V4 => (&V4, "4.4.0"),
    };
    cell.get_or_init(|| {
        ChartDir::release(version).unwrap_or_else(|d| panic!("embedded chart data: {}", d.message))
    })
}

/// Helm reads YAML 1.1, where U+0085, U+2028 and U+2029 break lines, also in
/// comments: output may hold them only escaped.
fn assert_yaml11_safe(what: &str, text: &str) {
    let raw = text
        .chars()
        .find(|c| matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}'));
    assert!(raw.is_none(), "{what}: raw {raw:?}, a line break to Helm");
}

fn check(c: &Compiled) {
    for (path, text) in c.output.texts() {
        let docs = yaml::parse_stream(&text)
            .unwrap_or_else(|e| panic!("{path} does not parse back: {e}\n{text}"));
        assert!(!docs.is_empty(), "{path} is empty");
    }
    let stream = emit::stream(&c.output);
    yaml::parse_stream(&stream).unwrap_or_else(|e| panic!("the stream does not parse back: {e}"));
    assert_yaml11_safe("the stream", &stream);
    // `compile --annotate`: the same values with provenance comments.
    let annotated = z2jh_policy::explain::annotate::values_yaml(c);
    assert_yaml11_safe("annotated values.yaml", &annotated);
    let with_comments = yaml::parse(&annotated)
        .unwrap_or_else(|e| panic!("annotated values do not parse back: {e}"));
    assert_eq!(
        with_comments.value, c.rendered.values,
        "comments changed the annotated values"
    );
    let values = c
        .output
        .texts()
        .next()
        .map(|(_, t)| t)
        .expect("values.yaml comes first");
    let file = ValuesFile::from_text("values.yaml", values)
        .unwrap_or_else(|d| panic!("values.yaml: {}", d.message));
    let line = ChartLine::of(&c.loaded.policy.chart);
    let errors = validate_against_chart(chart(line), std::slice::from_ref(&file));
    assert!(
        errors.is_empty(),
        "values fail the chart schema: {errors:#?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let input = Input::Inline {
        name: "fuzz.yaml".into(),
        text: text.to_string(),
        base: PathBuf::from(BASE),
    };
    match compile(&input, &Options::default()) {
        Ok(c) => check(&c),
        Err(diags) => {
            assert!(
                diags.iter().any(|d| d.is_error()),
                "failed without an error: {diags:#?}"
            );
            for d in &diags {
                render_human(d);
                render_json(d);
            }
        }
    }
});

//! Fuzz target: arbitrary bytes as a policy file through the whole pipeline
//! (parse → validate → lower → render → emit), as `compile` runs it.
//!
//! Invariants checked on every input:
//! - no panic, and an error result always holds at least one error, each
//!   rendering (human and JSON) without panicking;
//! - a successful compilation's files and stream parse back as YAML, and its
//!   values pass the chart's `values.schema.json` (4.4.0 or 3.3.8 by line).

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use z2jh_policy::chart::{ChartDir, ChartLine};
use z2jh_policy::compile::{Compiled, Options, compile};
use z2jh_policy::diag::{render_human, render_json};
use z2jh_policy::emit;
use z2jh_policy::parse::Input;
use z2jh_policy::validate::chart_values::{ValuesFile, validate_against_chart};
use z2jh_policy::yaml;

/// Chart data beside the checkout, as in CI.
const CHARTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/z2jh");
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
        ChartDir::load(&Path::new(CHARTS).join(version))
            .unwrap_or_else(|d| panic!("chart data missing at {CHARTS}: {}", d.message))
    })
}

fn check(c: &Compiled) {
    for (path, text) in c.output.texts() {
        let docs = yaml::parse_stream(&text)
            .unwrap_or_else(|e| panic!("{path} does not parse back: {e}\n{text}"));
        assert!(!docs.is_empty(), "{path} is empty");
    }
    let stream = emit::stream(&c.output);
    yaml::parse_stream(&stream).unwrap_or_else(|e| panic!("the stream does not parse back: {e}"));
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

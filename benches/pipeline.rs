//! Benchmarks of each pipeline stage on the example policy:
//! parse (with its preset chain), lower, render, emit, the whole compile,
//! and chart-schema validation of the generated values.
//!
//! Run: `cargo bench --bench pipeline` (numbers are recorded in docs/hardening.md).
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use z2jh_policy::chart::ChartDir;
use z2jh_policy::compile::{Options, compile};
use z2jh_policy::parse::{self, Input};
use z2jh_policy::validate::chart_values::{ValuesFile, validate_against_chart};
use z2jh_policy::{emit, lower, render};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/restricted-hub.yaml");

fn input() -> Input {
    let text = std::fs::read_to_string(EXAMPLE).expect("example policy");
    let base = Path::new(EXAMPLE)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    Input::Inline {
        name: "restricted-hub.yaml".into(),
        text,
        base,
    }
}

fn stages(c: &mut Criterion) {
    let input = input();
    let opts = Options::default();
    let compiled = compile(&input, &opts).expect("example compiles");

    c.bench_function("parse", |b| {
        b.iter(|| parse::load(black_box(&input)).expect("parses"))
    });
    c.bench_function("lower", |b| {
        b.iter(|| lower::lower(black_box(&compiled.loaded)))
    });
    c.bench_function("render", |b| {
        b.iter(|| render::render(black_box(&compiled.plan)).expect("renders"))
    });
    c.bench_function("emit", |b| {
        b.iter(|| {
            let header = emit::HeaderInfo {
                source: "p.yaml".into(),
                policy_name: "hub".into(),
                chart_version: "4.4.0".into(),
            };
            emit::stream(&emit::layout(black_box(&compiled.rendered), &header))
        })
    });
    c.bench_function("compile", |b| {
        b.iter(|| compile(black_box(&input), &opts).expect("compiles"))
    });

    let values = compiled
        .output
        .texts()
        .next()
        .map(|(_, t)| t)
        .expect("values.yaml");
    for version in ["4.4.0", "3.3.8"] {
        let chart = ChartDir::release(version).expect("embedded chart data");
        let file = ValuesFile::from_text("values.yaml", values.clone()).expect("values parse");
        c.bench_function(&format!("validate-chart-{version}"), |b| {
            b.iter(|| {
                let errors = validate_against_chart(black_box(&chart), std::slice::from_ref(&file));
                assert!(version != "4.4.0" || errors.is_empty());
                errors
            })
        });
    }
    let chart = ChartDir::release("4.4.0").expect("embedded chart data");
    c.bench_function("chart-validator-build-4.4.0", |b| {
        b.iter(|| {
            z2jh_policy::validate::schema_check::validator(black_box(&chart.schema))
                .expect("schema compiles")
        })
    });
    // Parsing the embedded defaults and copying the (cached) schema.
    c.bench_function("chart-load-4.4.0", |b| {
        b.iter(|| ChartDir::release("4.4.0").expect("embedded chart data"))
    });
}

criterion_group!(benches, stages);
criterion_main!(benches);

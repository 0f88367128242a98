//! Embeds the chart data (`chart-data/`): every blob file becomes an entry of
//! a static table, so adding a release needs no code change.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let blobs = Path::new(&root).join("chart-data/blobs");
    println!("cargo::rerun-if-changed=chart-data");
    let mut names: Vec<String> = std::fs::read_dir(&blobs)
        .unwrap_or_else(|e| panic!("{}: {e}", blobs.display()))
        .map(|e| e.expect("readable chart-data/blobs").file_name())
        .filter_map(|n| n.to_str()?.strip_suffix(".json").map(str::to_string))
        .collect();
    names.sort();
    let mut out = String::from(
        "/// Chart data blobs: (name, minified JSON).\npub static BLOBS: &[(&str, &str)] = &[\n",
    );
    for n in &names {
        println!("cargo::rerun-if-changed=chart-data/blobs/{n}.json");
        writeln!(
            out,
            "    ({n:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/chart-data/blobs/{n}.json\"))),"
        )
        .expect("write to string");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("set by cargo")).join("chart_blobs.rs");
    std::fs::write(dest, out).expect("write chart_blobs.rs");
}

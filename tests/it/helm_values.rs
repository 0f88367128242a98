//! Values are read the way Helm reads them: the corpus of tricky scalars in
//! tests/fixtures/helm-values was run through the real `helm` (see its
//! README and scripts/helm-values-differential.sh), and the reader must
//! give the same values. Numbers are compared as Helm holds them (float64).
#![allow(clippy::unwrap_used)]

use crate::common;

use serde_json::Value;
use z2jh_policy::validate::chart_values::ValuesFile;

const DIR: &str = "tests/fixtures/helm-values";

use common::same_value as same;

fn drop_key(v: &mut Value, key: &str) {
    match v {
        Value::Object(m) => {
            m.remove(key);
            for child in m.values_mut() {
                drop_key(child, key);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| drop_key(c, key)),
        _ => {}
    }
}

/// Keys of `want` whose values the reader gives differently (dotted paths).
fn differences(got: &Value, want: &Value, path: &str, out: &mut Vec<String>) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            for (k, wv) in w {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match g.get(k) {
                    Some(gv) => differences(gv, wv, &p, out),
                    None => out.push(format!("{p}: missing, helm gives {wv}")),
                }
            }
            for k in g.keys().filter(|k| !w.contains_key(*k)) {
                out.push(format!("{path}.{k}: not in helm's values"));
            }
        }
        _ if same(got, want) => {}
        _ => out.push(format!("{path}: got {got}, helm gives {want}")),
    }
}

/// Corpus keys whose Helm reading is not reproduced yet, with the reason.
const KNOWN: &[(&str, &str)] = &[
    (
        "anchors.merged_after_own_key",
        "a `<<` merge after a key overrides it in go-yaml; YAML's merge rule keeps the key",
    ),
    (
        "keys.",
        "float keys are printed with float32 precision by Helm (`3.1415927`, `1e-06`)",
    ),
    (
        "anchors.list_alias",
        "an alias (`*name`) of plain YAML 1.1 scalars keeps the YAML 1.2 reading",
    ),
    (
        "anchors.scalar_alias",
        "an alias (`*name`) of plain YAML 1.1 scalars keeps the YAML 1.2 reading",
    ),
];

/// Corpus lines (by key) the reader refuses although Helm accepts them,
/// with the reason; they are taken out before the rest is compared.
const REFUSED: &[(&str, &str)] = &[
    (
        "uint64_max_plus_1:",
        "integers beyond 64 bits are refused (Helm reads a float)",
    ),
    (
        "huge:",
        "integers beyond 64 bits are refused (Helm reads a float)",
    ),
    (
        "e21:",
        "integers beyond 64 bits are refused (Helm reads a float)",
    ),
    (
        "123456789012345678901234567890:",
        "integer keys beyond 64 bits are refused",
    ),
];

/// Whole top-level sections of the corpus the reader refuses, with the reason.
const REFUSED_SECTIONS: &[(&str, &str)] = &[(
    "tagged",
    "explicit tags (`!!int \"12\"`, `!!binary`, `!!set`, local tags) are not resolved as go-yaml resolves them",
)];

#[test]
fn the_corpus_reads_as_helm_reads_it() {
    let full = std::fs::read_to_string(format!("{DIR}/corpus.yaml")).unwrap();
    let mut want: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/expected.json")).unwrap())
            .unwrap();
    let mut text = String::new();
    let mut skipping = false;
    for line in full.lines() {
        let top = !line.starts_with(' ') && !line.starts_with('#') && !line.trim().is_empty();
        if top {
            let k = line.split(':').next().unwrap_or("");
            skipping = REFUSED_SECTIONS.iter().any(|(s, _)| *s == k);
            if skipping && let Value::Object(m) = &mut want {
                m.remove(k);
            }
        }
        if skipping {
            continue;
        }
        let key = line.trim_start();
        if REFUSED.iter().any(|(k, _)| key.starts_with(k)) {
            // Drop the same key from Helm's values.
            let k = key.split(':').next().unwrap_or("");
            drop_key(&mut want, k);
            continue;
        }
        text.push_str(line);
        text.push('\n');
    }
    let f = match ValuesFile::from_text("corpus.yaml", text) {
        Ok(f) => f,
        Err(d) => panic!("the corpus is a valid values file for helm: {}", d.message),
    };
    let mut diffs = Vec::new();
    differences(&f.doc.value, &want, "", &mut diffs);
    let (known, unexpected): (Vec<String>, Vec<String>) = diffs
        .into_iter()
        .partition(|d| KNOWN.iter().any(|(k, _)| d.starts_with(k)));
    // Each known gap must still show, so a fix shrinks the list.
    for (k, why) in KNOWN {
        assert!(
            known.iter().any(|d| d.starts_with(k)),
            "{k} now reads as helm does (was: {why}); remove it from KNOWN"
        );
    }
    assert!(
        unexpected.is_empty(),
        "{} differences:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}

/// Whole files Helm accepts (several documents, repeated keys, BOM, CRLF,
/// empty files): read as values files, they give Helm's values, except the
/// listed ones, which the reader refuses with a located error instead.
#[test]
fn whole_files_read_as_helm_reads_them() {
    const REFUSED_FILES: &[(&str, &str)] = &[
        (
            "multi-doc-merge.yaml",
            "several YAML documents in one values file are refused",
        ),
        (
            "multi-doc-null-overrides.yaml",
            "several YAML documents in one values file are refused",
        ),
        (
            "doc-end-marker.yaml",
            "a document end marker (`...`) followed by more text is refused",
        ),
    ];
    let want: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/cases.json")).unwrap())
            .unwrap();
    let mut failures = Vec::new();
    for (file, expected) in want.as_object().unwrap() {
        let path = std::path::PathBuf::from(format!("{DIR}/cases/{file}"));
        let refused = REFUSED_FILES.iter().any(|(f, _)| f == file);
        match z2jh_policy::assess::read_values(&path) {
            Ok(_) if refused => {
                failures.push(format!("{file}: now read; remove it from REFUSED_FILES"))
            }
            Ok(f) => {
                let mut d = Vec::new();
                differences(&f.doc.value, expected, "", &mut d);
                failures.extend(d.into_iter().map(|x| format!("{file}: {x}")));
            }
            Err(e) if refused => {
                assert!(e.location.is_some(), "{file}: the refusal names the file")
            }
            Err(e) => failures.push(format!("{file}: refused: {}", e.message)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

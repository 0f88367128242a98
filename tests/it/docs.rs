//! The README's policy reference and the committed JSON Schema are generated;
//! these tests fail when they drift. `UPDATE_GOLDEN=1 cargo test --test it docs::` refreshes them.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::check_file;
use std::path::Path;

const START: &str = "<!-- reference:start -->\n";
const END: &str = "<!-- reference:end -->";

#[test]
fn readme_reference_matches_the_control_definitions() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let (head, rest) = readme
        .split_once(START)
        .expect("README has the reference start marker");
    let (_, tail) = rest
        .split_once(END)
        .expect("README has the reference end marker");
    let wanted = format!(
        "{head}{START}{}{END}{tail}",
        z2jh_policy::reference::markdown()
    );
    if let Some(e) = check_file(Path::new("README.md"), &wanted) {
        panic!("{e}");
    }
}

#[test]
fn committed_schema_matches_the_language() {
    let derived = z2jh_policy::policy::schema::derived_file();
    let schema = serde_json::to_string_pretty(&derived).unwrap() + "\n";
    if let Some(e) = check_file(Path::new("schema/policy.schema.json"), &schema) {
        panic!("{e}");
    }
    // What `compile` checks files against and `schema` prints is the
    // compiled-in copy: it must be the derived schema itself (after an
    // update, from the next build on).
    if std::env::var("UPDATE_GOLDEN").as_deref() != Ok("1") {
        assert_eq!(z2jh_policy::policy::schema::file(), &derived);
    }
}

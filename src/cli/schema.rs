//! `z2jh-policy schema`.

use super::exit;
use crate::diag::ErrorFormat;
use crate::policy::schema;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_a: &Args, _fmt: ErrorFormat) -> u8 {
    match serde_json::to_string_pretty(schema::file()) {
        Ok(s) => {
            println!("{s}");
            exit::OK
        }
        Err(_) => exit::ERROR,
    }
}

//! The integration tests, one binary: each module drives the built
//! `z2jh-policy` binary or the library as a user would, sharing the harness
//! in `common` (running the binary, golden files, chart data).
//!
//! Run one area with a module filter, e.g. `cargo test --test it golden::`;
//! regenerate golden files with `UPDATE_GOLDEN=1 cargo test --test it`.

mod common;

mod admission;
mod atomicity;
mod audit;
mod check;
mod cli;
mod deployments;
mod diff;
mod diff_controls;
mod diff_git;
mod docs;
mod explain;
mod golden;
mod helm_values;
mod hostile;
mod init;
mod injection;
mod isolation;
mod pods;
mod properties;
mod releases;
mod terraform;
mod update_script;

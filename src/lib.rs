//! z2jh-policy: compile a declarative JupyterHub-on-Kubernetes security policy
//! into Zero-to-JupyterHub Helm values and Kubernetes manifests.
//!
//! Pipeline: [`parse`] → [`validate`] → [`lower`] → [`render`] → [`emit`].

// Diagnostics carry their source line for rendering; they travel only on the
// error path, so their size does not matter.
#![allow(clippy::result_large_err)]

pub mod admission;
pub mod assess;
pub mod chart;
pub mod cli;
pub mod compile;
pub mod controls;
pub mod diag;
pub mod diff;
pub mod effective;
pub mod emit;
pub mod exceptions;
pub mod explain;
pub mod init;
pub mod lower;
pub mod markdown;
pub mod par;
pub mod parse;
pub mod paths;
pub mod plan;
pub mod policy;
pub mod reference;
pub mod render;
pub mod terraform;
pub mod validate;
pub mod values;
pub mod yaml;
pub mod yaml11;

//! z2jh-policy: compile a declarative JupyterHub-on-Kubernetes security policy
//! into Zero-to-JupyterHub Helm values and Kubernetes manifests.
//!
//! Pipeline: [`parse`] → [`validate`] → [`lower`] → [`render`] → [`emit`].

pub mod chart;
pub mod cli;
pub mod compile;
pub mod controls;
pub mod diag;
pub mod emit;
pub mod lower;
pub mod plan;
pub mod parse;
pub mod policy;
pub mod render;
pub mod validate;
pub mod values;
pub mod yaml;

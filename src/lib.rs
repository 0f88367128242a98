//! z2jh-policy: compile a declarative JupyterHub-on-Kubernetes security policy
//! into Zero-to-JupyterHub Helm values and Kubernetes manifests.
//!
//! Pipeline: [`parse`] → [`validate`] → [`lower`] → [`render`] → [`emit`].

pub mod diag;
pub mod parse;
pub mod policy;
pub mod validate;
pub mod yaml;

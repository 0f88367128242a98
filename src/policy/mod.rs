//! The policy language: model types, their schema, presets and inheritance.

pub mod fields;
pub mod merge;
pub mod model;
pub mod presets;
pub mod schema;

pub use model::*;

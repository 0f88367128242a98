//! Stage 2 — validate: schema and deep value checks shared by every command.
//! Cross-field rules live with their control in `controls/`.

pub mod chart_values;
pub mod formats;
pub mod schema_check;

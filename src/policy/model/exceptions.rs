//! Exceptions: a control run weaker than the policy asks, on purpose, for
//! a reason, by an owner, until a date.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// One exception to the policy.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Exception {
    /// The control the exception is for.
    pub control: ControlId,
    /// The weakest setting of the control the exception allows; left out,
    /// any setting of the control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow: Option<String>,
    /// Where the exception applies; left out, the whole hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ExceptionScope>,
    /// Why the weaker setting is needed.
    #[schemars(extend("format" = "one-line-text"))]
    pub reason: String,
    /// Who answers for the exception (a person, team or ticket queue).
    #[schemars(extend("format" = "one-line-text"))]
    pub owner: String,
    /// The last day (`YYYY-MM-DD`, UTC) the exception holds; from the day
    /// after, `compile` fails and `check`/`audit` report it.
    #[schemars(extend("format" = "calendar-date"))]
    pub expires: String,
}

/// Where an exception applies.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExceptionScope {
    /// The `slug` of one `profileList` entry (KubeSpawner derives a missing
    /// slug from `display_name`): only that profile's pods are excepted.
    #[schemars(extend("format" = "label-value"))]
    pub profile: String,
}

/// The id of a control (`capabilities`, `exposure`, …).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct ControlId(pub String);

impl JsonSchema for ControlId {
    fn schema_name() -> Cow<'static, str> {
        "ControlId".into()
    }

    // The ids come from the control definitions, so the schema (and the
    // "did you mean" of the validator) never lists one that does not exist.
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let ids: Vec<&str> = crate::controls::ALL.iter().map(|c| c.def().id).collect();
        json_schema!({
            "description": "The id of a control, as the policy reference names it.",
            "type": "string",
            "enum": ids,
        })
    }
}

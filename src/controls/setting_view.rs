//! A control's setting in words: its name, detail, strength and summary.
//! `diff`, `audit`/`check` and `explain` all show a setting through this one
//! shape and its one [`SettingView::label`].

use std::borrow::Cow;

use serde::Serialize;

use super::{Control, ControlDef, ReadBack, ValuesView};
use crate::plan::Selected;

/// A setting with its definition's words, or why none could be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingView {
    /// The setting's name, or `cannot-verify`.
    pub name: &'static str,
    /// Strength (0 strongest); `None` when it cannot be verified.
    pub rank: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// What the setting does, in one line; why it cannot be verified.
    pub summary: Cow<'static, str>,
}

impl SettingView {
    /// `s`, a setting of `def`, in its definition's words.
    pub fn of(def: &ControlDef, s: &Selected) -> SettingView {
        let setting = def.setting(s);
        SettingView {
            name: setting.name,
            rank: Some(setting.rank),
            detail: s.detail.clone(),
            summary: Cow::Borrowed(setting.summary),
        }
    }

    /// What `c` reads back from `v`, or `cannot-verify` with the reason.
    pub fn read_back(c: &dyn Control, v: &ValuesView) -> SettingView {
        match c.read_back(v) {
            ReadBack::Setting(s) => SettingView::of(c.def(), &s),
            ReadBack::CannotVerify { reason } => SettingView {
                name: "cannot-verify",
                rank: None,
                detail: None,
                summary: Cow::Owned(reason),
            },
        }
    }

    /// `name (detail)`, as reports show it; an empty detail adds nothing.
    pub fn label(&self) -> String {
        match &self.detail {
            Some(d) if !d.is_empty() => format!("{} ({d})", self.name),
            _ => self.name.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::Setting;

    static S: Setting = Setting {
        name: "open",
        rank: 1,
        summary: "anyone",
    };
    static DEF: ControlDef = ControlDef {
        id: "t",
        title: "t",
        field: "/spec/t",
        rationale: "",
        settings: &[&S],
        values_keys: &[],
        read_only_keys: &[],
        spawner_traits: &[],
    };

    #[test]
    fn the_label_names_the_setting_and_a_detail_that_says_something() {
        assert_eq!(SettingView::of(&DEF, &S.selected()).label(), "open");
        assert_eq!(
            SettingView::of(&DEF, &S.with("2 hosts")).label(),
            "open (2 hosts)"
        );
        assert_eq!(SettingView::of(&DEF, &S.with("")).label(), "open");
    }
}

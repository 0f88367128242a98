//! Stage 3 — lower: run every control over the merged policy and collect
//! the [`Plan`]: values, manifest requests and diagnostics, each stamped
//! with the control and policy field that produced it. The context the
//! controls write into is [`Lowering`].

mod release;

use crate::controls::lowering::Lowering;
use crate::controls::{ALL, judge};
use crate::diag::Diagnostic;
use crate::parse::Loaded;
use crate::plan::Plan;

/// Lowers a loaded policy into a plan.
pub fn lower(loaded: &Loaded) -> Plan {
    let mut cx = Lowering::new(loaded);
    release::check_target(loaded, &mut cx.plan, cx.release);
    for control in ALL {
        cx.run(*control);
    }
    let mut plan = cx.plan;
    plan.diagnostics.extend(crate::exceptions::check(loaded));
    weakenings(loaded, &mut plan);
    plan
}

/// Warns where a policy sets a control weaker than the policy it extends,
/// unless a hub-wide exception of the policy allows the weaker setting (the
/// exception's own note says so instead).
fn weakenings(loaded: &Loaded, plan: &mut Plan) {
    let Some(parent) = &loaded.parent else { return };
    // Both read for the chart and cluster this policy targets: a setting
    // that follows the chart (`chart-default`) is no weaker for moving.
    let mut before = parent.policy.clone();
    before.chart.clone_from(&loaded.policy.chart);
    before
        .kubernetes_version
        .clone_from(&loaded.policy.kubernetes_version);
    for control in ALL {
        let def = control.def();
        let (old, new) = (control.selected(&before), control.selected(&loaded.policy));
        // A derived (`auto`) setting weakens only through the fields it is
        // derived from, and those are warned about themselves.
        if old.detail.as_deref() == Some("auto") && new.detail.as_deref() == Some("auto") {
            continue;
        }
        let (old_s, new_s) = (def.setting(&old), def.setting(&new));
        if judge::weaker(def, &old, &new)
            && !crate::exceptions::hub_wide_allows(&loaded.policy, def, new_s)
        {
            let mut d = Diagnostic::warning(format!(
                "`{}` weakens `{}` from `{}` (set by {}) to `{}`",
                def.dotted_field(),
                def.id,
                old_s.name,
                parent
                    .prov
                    .source(def.field)
                    .map_or(parent.origin.as_str(), |s| s.name.as_str()),
                new_s.name
            ))
            .control(def.id)
            .at_opt(loaded.prov.loc(def.field));
            if let Some(l) = parent.prov.loc(def.field) {
                d = d.related(l);
            }
            plan.diagnostics.push(d);
        }
    }
}

//! Per-pod bandwidth limits through the CNI bandwidth annotations.

use serde_json::json;

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::admission::{Validation, cel};
use crate::controls::lowering::Lowering;
use crate::plan::Selected;
use crate::policy::Policy;

pub struct BandwidthControl;

static LIMITED: Setting = Setting {
    name: "limited",
    rank: 0,
    summary: "`kubernetes.io/ingress-bandwidth` and `egress-bandwidth` annotations (bits/s)",
};
static PARTIAL: Setting = Setting {
    name: "partial",
    rank: 1,
    summary: "one direction limited",
};
static UNLIMITED: Setting = Setting {
    name: "unlimited",
    rank: 2,
    summary: "no annotations",
};

static DEF: ControlDef = ControlDef {
    id: "bandwidth",
    title: "Network bandwidth of user pods",
    field: "/spec/bandwidth",
    rationale: "Without a cap one server can saturate a node's link (bulk downloads, abuse) for everyone on it.",
    settings: &[&LIMITED, &PARTIAL, &UNLIMITED],
    values_keys: &[
        "singleuser.extraAnnotations[kubernetes.io/ingress-bandwidth]",
        "singleuser.extraAnnotations[kubernetes.io/egress-bandwidth]",
    ],
    read_only_keys: &[],
    spawner_traits: &["extra_annotations"],
};

const ANN: [&str; 2] = [
    "kubernetes.io/ingress-bandwidth",
    "kubernetes.io/egress-bandwidth",
];

fn classify(ingress: Option<&str>, egress: Option<&str>) -> Selected {
    match (ingress, egress) {
        (Some(i), Some(e)) => LIMITED.with(format!("in {i}, out {e}")),
        (None, None) => UNLIMITED.selected(),
        (i, e) => PARTIAL.with(
            i.map(|i| format!("in {i}"))
                .or(e.map(|e| format!("out {e}")))
                .unwrap_or_default(),
        ),
    }
}

impl Control for BandwidthControl {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn selected(&self, p: &Policy) -> Selected {
        classify(
            p.spec.bandwidth.ingress.as_deref(),
            p.spec.bandwidth.egress.as_deref(),
        )
    }
    fn admission(&self, p: &Policy) -> Vec<Validation> {
        let b = &p.spec.bandwidth;
        [
            ("/spec/bandwidth/ingress", ANN[0], &b.ingress),
            ("/spec/bandwidth/egress", ANN[1], &b.egress),
        ]
        .into_iter()
        .filter_map(|(field, ann, max)| {
            let max = max.as_ref()?;
            Some(Validation::user(
                field,
                format!("the pod must carry the annotation {ann} of at most {max}"),
                cel::annotation(ann, |a| {
                    format!(
                        "isQuantity({a}) && !quantity({a}).isGreaterThan(quantity({}))",
                        cel::string(max)
                    )
                }),
            ))
        })
        .collect()
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let b = &p.spec.bandwidth;
        for (ann, value, field) in [
            (ANN[0], &b.ingress, "ingress"),
            (ANN[1], &b.egress, "egress"),
        ] {
            if let Some(v) = value {
                // The chart's schema wants strings here; a bare number is rejected.
                cx.set_at(
                    &format!("/spec/bandwidth/{field}"),
                    &["singleuser", "extraAnnotations", ann],
                    json!(v),
                );
            }
        }
        if b.ingress.is_some() || b.egress.is_some() {
            cx.note(DEF.field, "bandwidth annotations are enforced only by a CNI with the `bandwidth` plugin (capabilities: {bandwidth: true}); some CNIs shape only one direction");
        }
    }
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        let get = |a: &str| v.str(&["singleuser", "extraAnnotations", a]);
        ReadBack::Setting(classify(get(ANN[0]), get(ANN[1])))
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let mut lost = Vec::new();
        let mut get = |a: &str| {
            let s = v.str(&["singleuser", "extraAnnotations", a])?;
            if crate::validate::formats::quantity(s).is_ok() {
                Some(s.to_string())
            } else {
                lost.push(format!("the `{a}` annotation `{s}` is not a quantity"));
                None
            }
        };
        p.spec.bandwidth.ingress = get(ANN[0]);
        p.spec.bandwidth.egress = get(ANN[1]);
        lost
    }
}

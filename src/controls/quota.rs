//! A ResourceQuota and LimitRange for the hub namespace, sized from the
//! per-user limits and the number of users.

use serde_json::json;

use super::resources::cpu_cores;
use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::controls::lowering::Lowering;
use crate::plan::{Group, Selected};
use crate::policy::{Policy, StorageType};
use crate::validate::formats::quantity_value;

pub struct QuotaControl;

static ENABLED: Setting = Setting {
    name: "enabled",
    rank: 0,
    summary: "ResourceQuota sized for `maxUsers` servers plus the chart's pods, and a LimitRange with the user defaults",
};
static DISABLED: Setting = Setting {
    name: "disabled",
    rank: 1,
    summary: "no namespace-wide cap",
};

static DEF: ControlDef = ControlDef {
    id: "namespace-quota",
    title: "Namespace ResourceQuota and LimitRange",
    field: "/spec/quota/enabled",
    rationale: "A quota caps what the whole hub can take from the cluster, and the LimitRange gives every container \
        (including ones a profile or extra container adds) a default limit.",
    settings: &[&ENABLED, &DISABLED],
    values_keys: &[],
    read_only_keys: &[],
    spawner_traits: &[],
};

/// Headroom for the chart's own pods.
const CHART_CPU: f64 = 4.0;
const CHART_MEMORY_MI: u64 = 4096;
const CHART_PODS: u32 = 20;

fn mi(bytes: f64) -> String {
    format!("{}Mi", (bytes / 1048576.0).ceil() as u64)
}

fn millicores(cores: f64) -> String {
    format!("{}m", (cores * 1000.0).round() as u64)
}

impl Control for QuotaControl {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn admission_gap(&self) -> Option<&'static str> {
        Some(
            "namespace totals are enforced by the ResourceQuota and LimitRange admission plugins, not per pod",
        )
    }
    fn selected(&self, p: &Policy) -> Selected {
        if p.spec.quota.enabled {
            ENABLED.with(format!("{} users", p.spec.quota.max_users))
        } else {
            DISABLED.selected()
        }
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let q = &p.spec.quota;
        if !q.enabled {
            return;
        }
        let r = &p.spec.resources;
        let (Some(cpu_l), Some(mem_l)) = (r.cpu.limit.as_ref(), r.memory.limit.as_deref()) else {
            cx.error(
                DEF.field,
                "`quota.enabled` needs `resources.cpu.limit` and `resources.memory.limit`",
                "the quota is sized from the per-user limits",
            );
            return;
        };
        let users = f64::from(q.max_users);
        let cpu_l = cpu_cores(cpu_l);
        let cpu_g = r.cpu.guarantee.as_ref().map(cpu_cores).unwrap_or(cpu_l);
        let mem_l = quantity_value(mem_l).unwrap_or(0.0);
        let mem_g = r
            .memory
            .guarantee
            .as_deref()
            .and_then(quantity_value)
            .unwrap_or(mem_l);
        let chart_mem = CHART_MEMORY_MI as f64 * 1048576.0;
        let mut hard = serde_json::Map::new();
        hard.insert("pods".into(), json!((q.max_users + CHART_PODS).to_string()));
        hard.insert(
            "requests.cpu".into(),
            json!(millicores(cpu_g * users + CHART_CPU)),
        );
        hard.insert(
            "limits.cpu".into(),
            json!(millicores(cpu_l * users + CHART_CPU)),
        );
        hard.insert(
            "requests.memory".into(),
            json!(mi(mem_g * users + chart_mem)),
        );
        hard.insert("limits.memory".into(), json!(mi(mem_l * users + chart_mem)));
        if p.spec.storage.kind != StorageType::None {
            let cap = quantity_value(&p.spec.storage.capacity).unwrap_or(0.0);
            hard.insert(
                "persistentvolumeclaims".into(),
                json!((q.max_users + 5).to_string()),
            );
            hard.insert(
                "requests.storage".into(),
                json!(mi(cap * users + 10.0 * 1073741824.0)),
            );
        }
        let mut default = serde_json::Map::new();
        default.insert("cpu".into(), json!(millicores(cpu_l)));
        default.insert("memory".into(), json!(mi(mem_l)));
        let mut default_request = serde_json::Map::new();
        default_request.insert("cpu".into(), json!(millicores(cpu_g)));
        default_request.insert("memory".into(), json!(mi(mem_g)));
        let ctx = json!({
            "hub": p.metadata.name,
            "namespace": p.metadata.namespace,
            "hard": hard,
            "default": default,
            "default_request": default_request,
        });
        cx.manifest(Group::Quota, "quota.yaml", ctx);
        cx.note(DEF.field, format!("the quota allows {} user servers at their limits plus the chart's pods; servers beyond it fail to spawn with `exceeded quota`", q.max_users));
    }
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        if v.manifests.is_none() {
            return ReadBack::CannotVerify {
                reason: "quotas are namespace objects, not Helm values".into(),
            };
        }
        ReadBack::Setting(
            if v.manifest("ResourceQuota", None).is_some() {
                &ENABLED
            } else {
                &DISABLED
            }
            .selected(),
        )
    }
}

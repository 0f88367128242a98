//! CPU, memory and ephemeral storage of user pods.

use serde_json::{Value, json};

use super::cloud_metadata::every_user_container;
use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::admission::Validation;
use crate::admission::cel::{self, Lists};
use crate::controls::lowering::Lowering;
use crate::effective::Pointer;
use crate::plan::Selected;
use crate::policy::{Cpu, Policy};
use crate::validate::formats::quantity_value;

pub struct ResourcesControl;

static LIMITED: Setting = Setting {
    name: "limited",
    rank: 0,
    summary: "CPU and memory limits (and guarantees) on every user server",
};
static PARTIAL: Setting = Setting {
    name: "partial",
    rank: 1,
    summary: "only CPU or only memory limited",
};
static UNLIMITED: Setting = Setting {
    name: "unlimited",
    rank: 2,
    summary: "no limits (chart default; memory guarantee 1G)",
};

static DEF: ControlDef = ControlDef {
    id: "resources",
    title: "CPU and memory limits of user pods",
    field: "/spec/resources",
    rationale: "Without limits one user's runaway notebook takes a node's CPU and memory from everyone else on it.",
    settings: &[&LIMITED, &PARTIAL, &UNLIMITED],
    values_keys: &[
        "singleuser.cpu.limit",
        "singleuser.memory.limit",
        "singleuser.cpu.guarantee",
        "singleuser.memory.guarantee",
        "singleuser.extraResource.limits.ephemeral-storage",
        "singleuser.extraResource.guarantees.ephemeral-storage",
    ],
    read_only_keys: &[],
    spawner_traits: &["cpu_limit", "mem_limit"],
};

/// Cores as a number, which is all the chart's schema accepts.
pub fn cpu_cores(c: &Cpu) -> f64 {
    match c {
        Cpu::Cores(n) => *n,
        Cpu::Text(s) => quantity_value(s).unwrap_or(0.0),
    }
}

/// Cores as JSON: whole numbers without a fraction (`2`, not `2.0`).
fn cpu_json(c: &Cpu) -> Value {
    let n = cpu_cores(c);
    if n.fract() == 0.0 && n < 1e9 {
        json!(n as u64)
    } else {
        json!(n)
    }
}

/// KubeSpawner's memory form: the same 1024-based number with K/M/G/T.
pub fn kubespawner_memory(q: &str) -> Value {
    for (bin, ks) in [("Ki", "K"), ("Mi", "M"), ("Gi", "G"), ("Ti", "T")] {
        if let Some(n) = q.strip_suffix(bin)
            && n.chars().all(|c| c.is_ascii_digit())
        {
            return json!(format!("{n}{ks}"));
        }
    }
    json!(quantity_value(q).unwrap_or(0.0).round() as u64)
}

/// The policy's (binary) form of a KubeSpawner memory size: `4G` is 4 GiB
/// to KubeSpawner, so it becomes `4Gi`; a bare number is bytes.
fn policy_memory(v: &Value) -> Option<String> {
    let q = match v {
        Value::Number(n) => {
            let b = n.as_u64()?;
            match [(1u64 << 30, "Gi"), (1 << 20, "Mi"), (1 << 10, "Ki")]
                .iter()
                .find(|(unit, _)| b % unit == 0)
            {
                Some((unit, s)) => format!("{}{s}", b / unit),
                None => b.to_string(),
            }
        }
        Value::String(s) => match s.strip_suffix(['K', 'M', 'G', 'T']) {
            Some(n) if n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() => {
                format!("{s}i")
            }
            _ => s.clone(),
        },
        _ => return None,
    };
    crate::validate::formats::binary_quantity(&q)
        .is_ok()
        .then_some(q)
}

/// CEL over `c`: a limit on `resource` that is not above `max` (a quantity).
pub(crate) fn limit_at_most(resource: &str, max: &str) -> String {
    let key = cel::string(resource);
    format!(
        "has(c.resources) && has(c.resources.limits) && {key} in c.resources.limits && !quantity(string(c.resources.limits[{key}])).isGreaterThan(quantity({}))",
        cel::string(max)
    )
}

/// The policy's CPU limit as a quantity (`2`, `0.5`, `500m`).
pub(crate) fn cpu_quantity(c: &Cpu) -> String {
    match c {
        Cpu::Cores(n) => n.to_string(),
        Cpu::Text(s) => s.clone(),
    }
}

/// The setting of a CPU limit (or not) and a memory limit (or not).
pub(crate) fn classify(cpu: bool, mem: bool) -> &'static Setting {
    match (cpu, mem) {
        (true, true) => &LIMITED,
        (false, false) => &UNLIMITED,
        _ => &PARTIAL,
    }
}

impl Control for ResourcesControl {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn selected(&self, p: &Policy) -> Selected {
        let r = &p.spec.resources;
        classify(r.cpu.limit.is_some(), r.memory.limit.is_some()).selected()
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let r = &p.spec.resources;
        let base = "/spec/resources";
        let pairs = [
            (
                "cpu",
                r.cpu.guarantee.as_ref().map(cpu_cores),
                r.cpu.limit.as_ref().map(cpu_cores),
            ),
            (
                "memory",
                r.memory.guarantee.as_deref().and_then(quantity_value),
                r.memory.limit.as_deref().and_then(quantity_value),
            ),
            (
                "ephemeralStorage",
                r.ephemeral_storage
                    .guarantee
                    .as_deref()
                    .and_then(quantity_value),
                r.ephemeral_storage
                    .limit
                    .as_deref()
                    .and_then(quantity_value),
            ),
        ];
        let mut ok = true;
        for (name, g, l) in pairs {
            if let (Some(g), Some(l)) = (g, l)
                && g > l
            {
                cx.error(
                    &format!("{base}/{name}/guarantee"),
                    format!("`resources.{name}.guarantee` is larger than its limit"),
                    "the guarantee (request) must not exceed the limit",
                );
                ok = false;
            }
        }
        if !ok {
            return;
        }
        if let Some(g) = &r.cpu.guarantee {
            cx.set_at(
                &format!("{base}/cpu/guarantee"),
                &["singleuser", "cpu", "guarantee"],
                cpu_json(g),
            );
        }
        if let Some(l) = &r.cpu.limit {
            cx.set_at(
                &format!("{base}/cpu/limit"),
                &["singleuser", "cpu", "limit"],
                cpu_json(l),
            );
        }
        // Explicit null drops the chart's 1G default guarantee when the policy sets none.
        let mg = r
            .memory
            .guarantee
            .as_deref()
            .map(kubespawner_memory)
            .unwrap_or(Value::Null);
        cx.set_at(
            &format!("{base}/memory/guarantee"),
            &["singleuser", "memory", "guarantee"],
            mg,
        );
        if let Some(l) = &r.memory.limit {
            cx.set_at(
                &format!("{base}/memory/limit"),
                &["singleuser", "memory", "limit"],
                kubespawner_memory(l),
            );
        }
        if let Some(g) = &r.ephemeral_storage.guarantee {
            cx.set_at(
                &format!("{base}/ephemeralStorage/guarantee"),
                &[
                    "singleuser",
                    "extraResource",
                    "guarantees",
                    "ephemeral-storage",
                ],
                json!(g),
            );
        }
        if let Some(l) = &r.ephemeral_storage.limit {
            cx.set_at(
                &format!("{base}/ephemeralStorage/limit"),
                &["singleuser", "extraResource", "limits", "ephemeral-storage"],
                json!(l),
            );
            cx.note(&format!("{base}/ephemeralStorage/limit"), "a pod over its ephemeral-storage limit is evicted by the kubelet, not stopped at a quota");
        }
        match (r.cpu.limit.is_some(), r.memory.limit.is_some()) {
            (true, true) => {}
            (true, false) | (false, true) => cx.warn(DEF.field, "only one of CPU and memory is limited", "set both `resources.cpu.limit` and `resources.memory.limit`"),
            (false, false) => cx.warn(DEF.field, "user servers have no CPU or memory limit", "one user can take a whole node; set `resources.cpu.limit` and `resources.memory.limit`"),
        }
    }
    fn judge(&self, v: &ValuesView) -> super::Judgement {
        let keys = {
            let cpu = v
                .get(&["singleuser", "cpu", "limit"])
                .is_some_and(|x| !x.is_null());
            let mem = v
                .get(&["singleuser", "memory", "limit"])
                .is_some_and(|x| !x.is_null());
            ReadBack::Setting(classify(cpu, mem).selected())
        };
        super::reconcile(keys, v.judge_pods(&DEF, crate::effective::grade::limits))
    }
    fn parameters(&self, p: &Policy, v: &ValuesView) -> Vec<String> {
        let r = &p.spec.resources;
        let cores = |c: &Cpu| match c {
            Cpu::Cores(n) => Some(*n),
            Cpu::Text(t) => t
                .strip_suffix('m')
                .and_then(|m| m.parse::<f64>().ok())
                .map(|m| m / 1000.0)
                .or_else(|| t.parse().ok()),
        };
        // With a profile ceiling, `profile-images` holds profiles to it; the
        // default limit is only the default.
        let g = &p.spec.profiles;
        let max_cpu = r
            .cpu
            .limit
            .as_ref()
            .and_then(cores)
            .filter(|_| g.max_cpu.is_none());
        let max_mem = r
            .memory
            .limit
            .as_deref()
            .and_then(crate::effective::pod::bytes_of)
            .filter(|_| g.max_memory.is_none());
        let mut out = Vec::new();
        for (pod, _) in v.pods() {
            let l = pod.json.at("/spec/containers/0/resources/limits");
            let cpu = l.and_then(|l| l.get("cpu")).and_then(Value::as_f64);
            let mem = l.and_then(|l| l.get("memory")).and_then(Value::as_i64);
            if let (Some(c), Some(max)) = (cpu, max_cpu)
                && c > max
            {
                out.push(format!(
                    "CPU limit {c} ({}) is above the policy's {max}",
                    pod.label
                ));
            }
            if let (Some(m), Some(max)) = (mem, max_mem)
                && m > max
            {
                out.push(format!(
                    "memory limit {} bytes ({}) is above the policy's {}",
                    m,
                    pod.label,
                    r.memory.limit.as_deref().unwrap_or("")
                ));
            }
        }
        out
    }
    fn admission(&self, p: &Policy) -> Vec<Validation> {
        let r = &p.spec.resources;
        // A profile ceiling replaces the default limit as the most a
        // container may have (`profile-images` states that validation).
        let g = &p.spec.profiles;
        let limits: [(&'static str, &str, Option<String>); 3] = [
            (
                "/spec/resources/cpu/limit",
                "cpu",
                r.cpu
                    .limit
                    .as_ref()
                    .map(cpu_quantity)
                    .filter(|_| g.max_cpu.is_none()),
            ),
            (
                "/spec/resources/memory/limit",
                "memory",
                r.memory.limit.clone().filter(|_| g.max_memory.is_none()),
            ),
            (
                "/spec/resources/ephemeralStorage/limit",
                "ephemeral-storage",
                r.ephemeral_storage.limit.clone(),
            ),
        ];
        limits
            .into_iter()
            .filter_map(|(field, key, max)| {
                let max = max?;
                Some(Validation::user(
                    field,
                    format!(
                        "every container and init container must set resources.limits.{key}, at most {max}"
                    ),
                    every_user_container(p, Lists::WithResources, &limit_at_most(key, &max)),
                ))
            })
            .collect()
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        let mut lost = Vec::new();
        let cpu = |k: &str| match v.get(&["singleuser", "cpu", k]) {
            Some(Value::Number(n)) => n.as_f64().filter(|c| *c > 0.0).map(Cpu::Cores),
            Some(Value::String(s)) if crate::validate::formats::cpu(s).is_ok() => {
                Some(Cpu::Text(s.clone()))
            }
            _ => None,
        };
        let r = &mut p.spec.resources;
        r.cpu.limit = cpu("limit");
        r.cpu.guarantee = cpu("guarantee");
        let mut mem = |k: &str| {
            let raw = v
                .get(&["singleuser", "memory", k])
                .filter(|x| !x.is_null())?;
            let q = policy_memory(raw);
            if q.is_none() {
                lost.push(format!(
                    "`singleuser.memory.{k}: {raw}` is not a memory size the language takes"
                ));
            }
            q
        };
        r.memory.limit = mem("limit");
        r.memory.guarantee = mem("guarantee");
        let eph = |k: &str| {
            v.str(&["singleuser", "extraResource", k, "ephemeral-storage"])
                .filter(|q| crate::validate::formats::binary_quantity(q).is_ok())
                .map(str::to_string)
        };
        r.ephemeral_storage.limit = eph("limits");
        r.ephemeral_storage.guarantee = eph("guarantees");
        lost
    }
}

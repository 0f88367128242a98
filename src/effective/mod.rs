//! What a deployment does, worked out from its values: the user pods the
//! hub would spawn (one per profile and option choice) and where they can
//! connect. Controls read their state from here rather than from keys, so
//! an override anywhere — a profile, `hub.config`, the hub's Python, an
//! extra NetworkPolicy — counts, and what cannot be known says so.
//!
//! Input: merged Helm values (chart defaults + files), the chart version,
//! manifests applied beside the chart. Output: a [`Deployment`].

pub mod cilium;
pub mod grade;
mod literal;
pub mod network;
pub mod origin;
pub mod pod;
pub mod profiles;
pub mod pss;
pub mod python;
mod reach;
pub mod spawner;

use std::sync::Arc;

use serde_json::{Map, Value};

pub use origin::Origin;
pub use pod::Pod;

use network::{ManifestDoc, Network};
use spawner::Flavour;

/// A manifest document and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub file: String,
    pub index: usize,
    pub doc: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// Every user pod the hub can spawn, each with the network it sees
    /// (shared by the pods that see the same one).
    pub pods: Vec<(Pod, Arc<Network>)>,
}

impl Deployment {
    /// Builds the deployment from merged values. `chart_version` picks the
    /// generation of the chart's configuration file (newest when unknown).
    pub fn build(
        values: &Value,
        chart_version: Option<&str>,
        manifests: &[Manifest],
    ) -> Deployment {
        let flavour = chart_version.map_or(Flavour::V4, Flavour::of);
        let python = spawner::python_effects(values);
        let cfg = spawner::configure(values, flavour, &python);
        let docs: Vec<ManifestDoc> = manifests
            .iter()
            .map(|m| ManifestDoc {
                file: &m.file,
                index: m.index,
                doc: &m.doc,
            })
            .collect();
        // Pods selected by the same policies see the same network: work it
        // out once.
        let mut nets: Vec<(Vec<bool>, Arc<Network>)> = Vec::new();
        let no_labels = Map::new();
        let pods = profiles::pods(&cfg)
            .into_iter()
            .map(|p| {
                let labels = p
                    .json
                    .at("/metadata/labels")
                    .and_then(Value::as_object)
                    .unwrap_or(&no_labels);
                let selection = network::selection(labels, &docs);
                let net = match nets.iter().find(|(s, _)| *s == selection) {
                    Some((_, n)) => n.clone(),
                    None => {
                        let n = Arc::new(network::network(values, labels, &docs));
                        nets.push((selection, n.clone()));
                        n
                    }
                };
                (p, net)
            })
            .collect();
        Deployment { pods }
    }

    /// The pod without profiles, or the first profile's.
    pub fn first(&self) -> Option<&(Pod, Arc<Network>)> {
        self.pods.first()
    }
}

/// `Value::pointer` without its two allocations per token: the same lookup
/// (`~1` and `~0` unescaped, array indices read as serde_json reads them).
pub trait Pointer {
    fn at(&self, ptr: &str) -> Option<&Value>;
}

impl Pointer for Value {
    fn at(&self, ptr: &str) -> Option<&Value> {
        if ptr.is_empty() {
            return Some(self);
        }
        let rest = ptr.strip_prefix('/')?;
        let mut target = self;
        for raw in rest.split('/') {
            let token = crate::paths::unescape_pointer(raw);
            target = match target {
                Value::Object(map) => find(map, &token)?,
                Value::Array(list) => list.get(array_index(&token)?)?,
                _ => return None,
            };
        }
        Some(target)
    }
}

/// A key of a map: small maps (most of a pod's) are scanned, which is
/// cheaper than hashing the key.
fn find<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    if map.len() <= 8 {
        map.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// serde_json's reading of an array index in a pointer.
fn array_index(s: &str) -> Option<usize> {
    if s.starts_with('+') || (s.starts_with('0') && s.len() != 1) {
        return None;
    }
    s.parse().ok()
}

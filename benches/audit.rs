//! Benchmarks of judging a deployment: `audit` of a four-file stack (base,
//! cluster, hub, profiles) with 30 profiles, each with options, against
//! the `restricted` preset (the example policy extending it) on the embedded 4.4.0 release; and 100 such
//! stacks in one process. Targets: under 20 ms for one, under 1 s for 100.
//!
//! Run: `cargo bench --bench audit` (numbers are recorded in docs/hardening.md).
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use z2jh_policy::assess::{Installed, Reference, Scope, assess, values_from_text};
use z2jh_policy::chart::ChartSource;
use z2jh_policy::parse::{Input, load};

const BASE: &str = "singleuser:\n  image:\n    name: example.org/notebook\n    tag: \"2025-01\"\n  cpu:\n    limit: 2\n    guarantee: 0.5\n  memory:\n    limit: 4G\n    guarantee: 1G\n  networkPolicy:\n    egress:\n      - to:\n          - ipBlock:\n              cidr: 0.0.0.0/0\n              except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]\n        ports:\n          - {port: 80, protocol: TCP}\n          - {port: 443, protocol: TCP}\nhub:\n  config:\n    KubeSpawner:\n      container_security_context:\n        allowPrivilegeEscalation: false\n        capabilities: {drop: [ALL]}\n";
const CLUSTER: &str = "singleuser:\n  cloudMetadata:\n    blockWithIptables: false\n  storage:\n    type: static\n    static:\n      pvcName: home-nfs\n      subPath: \"{username}\"\n";
const HUB: &str = "hub:\n  extraConfig:\n    00-templates: |\n      c.JupyterHub.template_paths = [\"/etc/templates\"]\n    10-limits: |\n      c.KubeSpawner.start_timeout = 600\n";

/// 30 profiles, each overriding a few traits, with two options of three
/// choices each (one of them free-form).
fn profiles() -> String {
    let mut s = String::from("singleuser:\n  profileList:\n");
    for i in 0..30 {
        s.push_str(&format!(
            "    - display_name: Profile {i}\n      slug: p{i}\n      kubespawner_override:\n        cpu_limit: {}\n        mem_limit: {}G\n        extra_labels: {{course: c{i}}}\n      profile_options:\n        image:\n          display_name: Image\n          choices:\n            a: {{display_name: A, kubespawner_override: {{image: 'example.org/a:{i}'}}}}\n            b: {{display_name: B, kubespawner_override: {{image: 'example.org/b:{i}'}}}}\n            c: {{display_name: C, kubespawner_override: {{image: 'example.org/c:{i}'}}}}\n          unlisted_choice:\n            enabled: {}\n            kubespawner_override: {{image: '{{value}}'}}\n        size:\n          display_name: Size\n          choices:\n            s: {{display_name: S, default: true, kubespawner_override: {{mem_guarantee: 1G}}}}\n            m: {{display_name: M, kubespawner_override: {{mem_guarantee: 2G}}}}\n            l: {{display_name: L, kubespawner_override: {{mem_guarantee: 4G}}}}\n",
            1 + i % 4,
            2 + i % 8,
            i % 5 == 0,
        ));
    }
    s
}

fn stack() -> Installed {
    let files = [
        ("base.yaml", BASE.to_string()),
        ("cluster.yaml", CLUSTER.to_string()),
        ("hub.yaml", HUB.to_string()),
        ("profiles.yaml", profiles()),
    ]
    .into_iter()
    .map(|(n, t)| values_from_text(n, t).expect("valid values"))
    .collect();
    Installed::new(files, Some(&ChartSource::Release("4.4.0".into())), None).expect("release data")
}

fn bench(c: &mut Criterion) {
    // The restricted preset with a site's hosts, as `audit` fills them in.
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/restricted-hub.yaml");
    let loaded = load(&Input::File(example.into())).expect("example policy");
    let reference = Reference::new("restricted".into(), loaded).expect("example compiles");
    let one = stack();
    let report = assess("audit", &reference, &one, Scope::WithProfiles);
    assert!(!report.findings.is_empty());
    c.bench_function("audit-4-files-30-profiles", |b| {
        b.iter(|| {
            assess(
                "audit",
                black_box(&reference),
                black_box(&one),
                Scope::WithProfiles,
            )
        })
    });
    c.bench_function("check-4-files-30-profiles", |b| {
        b.iter(|| {
            assess(
                "check",
                black_box(&reference),
                black_box(&one),
                Scope::Controls,
            )
        })
    });
    let hundred: Vec<Installed> = (0..100).map(|_| stack()).collect();
    let mut group = c.benchmark_group("audit-100-stacks");
    group.sample_size(10);
    group.bench_function("audit-100-stacks", |b| {
        b.iter(|| {
            for s in &hundred {
                black_box(assess("audit", &reference, s, Scope::WithProfiles));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Golden files: every case in `golden/` compiled for each chart version,
//! compared with the committed output, and judged by the real chart schema.
//! Regenerate with `UPDATE_GOLDEN=1 cargo test --test it golden::`, then read the diff.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;
use serde_json::Value;
use z2jh_policy::chart::ChartLine;
use z2jh_policy::controls::{ALL, ReadBack, ValuesView};
use z2jh_policy::parse::{Input, load};
use z2jh_policy::validate::chart_values::{ValuesFile, merged, validate_against_chart};

#[test]
fn golden_outputs_match() {
    let mut failures = Vec::new();
    for case in cases() {
        for v in VERSIONS {
            let dir = Path::new("golden").join(&case);
            match compile_case(&case, v) {
                Ok(c) => {
                    let stream = z2jh_policy::emit::stream(&c.output);
                    failures.extend(check_file(&dir.join(format!("out-{v}.yaml")), &stream));
                    failures.extend(check_file(
                        &dir.join(format!("diagnostics-{v}.txt")),
                        &render_diags(c.diagnostics()),
                    ));
                    if expects_error(&case, v) {
                        failures.push(format!("{case} ({v}): compiled, but error cases must fail"));
                    }
                }
                Err(diags) => {
                    failures.extend(check_file(
                        &dir.join(format!("error-{v}.txt")),
                        &render_diags(&diags),
                    ));
                    if !expects_error(&case, v) {
                        failures.push(format!(
                            "{case} ({v}): failed to compile:\n{}",
                            render_diags(&diags)
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_setting_of_every_control_has_a_golden_case() {
    let mut covered = BTreeSet::new();
    for case in cases() {
        // Error cases count too: a setting that can never compile is covered by its error.
        if let Ok(loaded) = load(&Input::File(policy_path(&case))) {
            for control in ALL {
                let s = control.selected(&loaded.policy);
                covered.insert((control.def().id, control.def().setting(&s).name));
            }
        }
    }
    // Settings only found in deployments have no policy to compile.
    let missing: Vec<String> = ALL
        .iter()
        .flat_map(|c| {
            c.def()
                .settings
                .iter()
                .filter(|s| !c.found_only().iter().any(|f| std::ptr::eq(*f, **s)))
                .map(move |s| (c.def().id, s.name))
        })
        .filter(|k| !covered.contains(k))
        .map(|(c, s)| format!("{c}: {s}"))
        .collect();
    assert!(
        missing.is_empty(),
        "settings without a golden case:\n{}",
        missing.join("\n")
    );
}

#[test]
fn compiled_values_pass_the_chart_schema() {
    let mut failures = Vec::new();
    for v in VERSIONS {
        let chart = chart(v);
        for case in cases() {
            let Ok(c) = compile_case(&case, v) else {
                continue;
            };
            let text = z2jh_policy::yaml::to_string(&c.rendered.values);
            let file = ValuesFile::from_text(&format!("{case}/values.yaml"), text).unwrap();
            let errors = validate_against_chart(&chart, &[file]);
            if !errors.is_empty() {
                failures.push(format!("{case} on {v}:\n{}", render_diags(&errors)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_control_reads_back_what_it_compiled() {
    let mut failures = Vec::new();
    for v in VERSIONS {
        let chart = chart(v);
        for case in cases() {
            let Ok(c) = compile_case(&case, v) else {
                continue;
            };
            let file = ValuesFile::from_text(
                "values.yaml",
                z2jh_policy::yaml::to_string(&c.rendered.values),
            )
            .unwrap();
            let values = merged(&chart.defaults, &[file]);
            let manifests = read_back_manifests(&c);
            let mut view = ValuesView {
                values: &values,
                defaults: &chart.defaults,
                manifests: Some(&manifests),
                chart: ChartLine::of(v),
                more: Default::default(),
            };
            // The policy's own allow rules are its stated exceptions.
            view.more.sanctioned_egress = c
                .rendered
                .values
                .pointer("/singleuser/networkPolicy/egress")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
                .into();
            for control in ALL {
                let want = control.selected(&c.loaded.policy);
                match control.read_back(&view) {
                    ReadBack::Setting(got) if got.is(want.setting) => {}
                    // What a policy allows but does not write, and the
                    // site's authenticator (see the helper).
                    ReadBack::Setting(got)
                        if common::read_back_may_differ(
                            control.def().id,
                            want.setting,
                            got.setting,
                            v,
                            &c.loaded.policy,
                        ) => {}
                    ReadBack::CannotVerify { .. } if matches!(control.def().id, "pid-limit") => {}
                    ReadBack::CannotVerify { .. }
                        if control.def().id == "pod-security-admission"
                            && manifests.iter().all(|m| m["kind"] != "Namespace") => {}
                    other => failures.push(format!(
                        "{case} on {v}: {} compiled `{}` but reads back {other:?}",
                        control.def().id,
                        control.def().setting(&want).name
                    )),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The compiler writes no credential into values of its own accord: the
/// only literal any golden output holds is the TLS key of `https.mode:
/// manual`, which the policy must allow (`secrets.mode: literals-allowed`).
#[test]
fn compiled_output_holds_no_credential() {
    use z2jh_policy::controls::by_id;
    let secrets = by_id("secrets").unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases() {
        for v in VERSIONS {
            let Ok(c) = compile_case(&case, v) else {
                continue;
            };
            checked += 1;
            let view = ValuesView {
                values: &c.rendered.values,
                defaults: &Value::Null,
                manifests: None,
                chart: ChartLine::of(v),
                more: Default::default(),
            };
            let allowed = secrets.selected(&c.loaded.policy).setting.name == "literals-allowed";
            match secrets.read_back(&view) {
                ReadBack::Setting(got) if got.setting.name == "references-only" => {}
                ReadBack::Setting(got)
                    if allowed
                        && got.detail.as_deref()
                            == Some("literal credentials at `proxy.https.manual.key`") => {}
                other => failures.push(format!("{case} on {v}: {other:?}")),
            }
            for m in manifests(&c) {
                if m["kind"] == "Secret" {
                    failures.push(format!("{case} on {v}: emits a Secret"));
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} outputs checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A service mesh object, held to its CRD's schema (Istio
/// `security.istio.io/v1`; Linkerd `policy.linkerd.io` `Server` v1beta1,
/// `AuthorizationPolicy` and `NetworkAuthentication` v1alpha1): the
/// apiVersion, only the spec fields the CRD defines, and their enums.
fn mesh_crd(m: &Value) -> Result<(), String> {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    let meta: ObjectMeta =
        serde_json::from_value(m["metadata"].clone()).map_err(|e| e.to_string())?;
    if serde_json::to_value(&meta).map_err(|e| e.to_string())? != m["metadata"] {
        return Err("metadata changed in a round trip".into());
    }
    let spec = m["spec"].as_object().ok_or("no spec")?;
    let only = |v: &Value, keys: &[&str]| -> Result<(), String> {
        let o = v.as_object().ok_or(format!("{v} is not a mapping"))?;
        match o.keys().find(|k| !keys.contains(&k.as_str())) {
            Some(k) => Err(format!(
                "field `{k}` is not in the CRD (expected one of {keys:?})"
            )),
            None => Ok(()),
        }
    };
    let reference = |r: &Value| only(r, &["group", "kind", "name", "namespace"]);
    let api = m["apiVersion"].as_str().unwrap_or_default();
    match m["kind"].as_str().unwrap_or_default() {
        "PeerAuthentication" => {
            if api != "security.istio.io/v1" {
                return Err(format!("apiVersion {api}"));
            }
            only(&m["spec"], &["selector", "mtls", "portLevelMtls"])?;
            let mode = |v: &Value| {
                only(v, &["mode"])?;
                match v["mode"].as_str() {
                    Some("UNSET" | "DISABLE" | "PERMISSIVE" | "STRICT") => Ok(()),
                    other => Err(format!("mtls mode {other:?}")),
                }
            };
            mode(&m["spec"]["mtls"])?;
            if let Some(s) = spec.get("selector") {
                only(s, &["matchLabels"])?;
            }
            for (port, v) in spec
                .get("portLevelMtls")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                port.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or(format!("port {port}"))?;
                mode(v)?;
            }
            Ok(())
        }
        "Server" => {
            if api != "policy.linkerd.io/v1beta1" {
                return Err(format!("apiVersion {api}"));
            }
            only(&m["spec"], &["podSelector", "port", "proxyProtocol"])?;
            only(
                &m["spec"]["podSelector"],
                &["matchLabels", "matchExpressions"],
            )?;
            match &m["spec"]["port"] {
                Value::String(_) | Value::Number(_) => Ok(()),
                other => Err(format!("port {other}")),
            }
        }
        "AuthorizationPolicy" => {
            if api != "policy.linkerd.io/v1alpha1" {
                return Err(format!("apiVersion {api}"));
            }
            only(&m["spec"], &["targetRef", "requiredAuthenticationRefs"])?;
            reference(&m["spec"]["targetRef"])?;
            let refs = m["spec"]["requiredAuthenticationRefs"]
                .as_array()
                .ok_or("requiredAuthenticationRefs is not a list")?;
            refs.iter().try_for_each(reference)
        }
        _ => {
            if api != "policy.linkerd.io/v1alpha1" {
                return Err(format!("apiVersion {api}"));
            }
            only(&m["spec"], &["networks"])?;
            let nets = m["spec"]["networks"].as_array().ok_or("networks")?;
            nets.iter().try_for_each(|n| only(n, &["cidr", "except"]))
        }
    }
}

/// Every manifest survives a round trip through the Kubernetes API types:
/// a misspelt or misplaced field would be dropped and the comparison fails.
#[test]
fn manifests_round_trip_through_kubernetes_types() {
    use k8s_openapi::api::admissionregistration::v1::{
        ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
    };
    use k8s_openapi::api::core::v1::{
        LimitRange, Namespace, PersistentVolume, PersistentVolumeClaim, ResourceQuota,
        ServiceAccount,
    };
    use k8s_openapi::api::networking::v1::NetworkPolicy;
    use k8s_openapi::api::node::v1::RuntimeClass;
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    use k8s_openapi::api::storage::v1::StorageClass;

    fn round<T: serde::de::DeserializeOwned + serde::Serialize>(
        v: &Value,
    ) -> Result<Value, String> {
        let typed: T = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
        serde_json::to_value(typed).map_err(|e| e.to_string())
    }
    let mut failures = Vec::new();
    let mut kinds = BTreeSet::new();
    for case in cases() {
        let Ok(c) = compile_case(&case, "4.4.0") else {
            continue;
        };
        for m in manifests(&c) {
            let kind = m["kind"].as_str().unwrap_or_default().to_string();
            let back = match kind.as_str() {
                "Namespace" => round::<Namespace>(&m),
                "ServiceAccount" => round::<ServiceAccount>(&m),
                "Role" => round::<Role>(&m),
                "RoleBinding" => round::<RoleBinding>(&m),
                "NetworkPolicy" => round::<NetworkPolicy>(&m),
                "StorageClass" => round::<StorageClass>(&m),
                "RuntimeClass" => round::<RuntimeClass>(&m),
                "PersistentVolume" => round::<PersistentVolume>(&m),
                "PersistentVolumeClaim" => round::<PersistentVolumeClaim>(&m),
                "ResourceQuota" => round::<ResourceQuota>(&m),
                "LimitRange" => round::<LimitRange>(&m),
                "ValidatingAdmissionPolicy" => round::<ValidatingAdmissionPolicy>(&m),
                "ValidatingAdmissionPolicyBinding" => round::<ValidatingAdmissionPolicyBinding>(&m),
                // Mesh CRDs have no k8s-openapi type: checked against the
                // fields their CRD schemas define instead.
                "PeerAuthentication"
                | "Server"
                | "AuthorizationPolicy"
                | "NetworkAuthentication" => mesh_crd(&m).map(|()| m.clone()),
                // A custom resource: Cilium's own types, mirrored in `common::cilium`.
                "CiliumNetworkPolicy" => round::<common::cilium::CiliumNetworkPolicy>(&m),
                other => Err(format!("no Kubernetes type mapped for kind {other}")),
            };
            kinds.insert(kind.clone());
            match back {
                Ok(b) if b == m => {}
                Ok(b) => failures.push(format!(
                    "{case}: {kind} changed in a round trip:\n  ours: {m}\n  back: {b}"
                )),
                Err(e) => failures.push(format!("{case}: {kind}: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        kinds.len() >= 12,
        "cases should exercise every manifest kind, saw {kinds:?}"
    );
}

/// Helm reads YAML 1.1: an unquoted `no`, `yes`, `on` or `off` becomes a boolean.
#[test]
fn no_yaml11_boolean_words_are_left_unquoted() {
    let words = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF",
    ];
    let mut failures = Vec::new();
    for case in cases() {
        for v in VERSIONS {
            let Ok(text) = std::fs::read_to_string(format!("golden/{case}/out-{v}.yaml")) else {
                continue;
            };
            for (i, line) in text.lines().enumerate() {
                let scalar = line.trim_start().trim_start_matches("- ");
                let value = scalar.rsplit_once(": ").map_or(scalar, |(_, v)| v);
                if words.contains(&value.trim()) {
                    failures.push(format!("golden/{case}/out-{v}.yaml:{}: {line}", i + 1));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The case written to prove it: strings such as `no` reach Helm quoted.
    let text = std::fs::read_to_string("golden/yaml-norway-strings/out-4.4.0.yaml").unwrap();
    assert!(
        text.contains("tag: \"no\""),
        "user image tag `no` must be quoted"
    );
    assert!(text.contains("encrypted: \"yes\""));
}

#[test]
fn examples_compile_and_pass_the_chart_schema() {
    let mut failures = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir("examples").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        seen += 1;
        for v in VERSIONS {
            match z2jh_policy::compile::compile(
                &Input::File(path.clone()),
                &z2jh_policy::compile::Options {
                    chart_version: Some(v.to_string()),
                    today: Some(golden_today()),
                    ..Default::default()
                },
            ) {
                Ok(c) => {
                    let file = ValuesFile::from_text(
                        "values.yaml",
                        z2jh_policy::yaml::to_string(&c.rendered.values),
                    )
                    .unwrap();
                    let errors = validate_against_chart(&chart(v), &[file]);
                    if !errors.is_empty() {
                        failures.push(format!(
                            "{} on {v}:\n{}",
                            path.display(),
                            render_diags(&errors)
                        ));
                    }
                }
                Err(d) => {
                    failures.push(format!("{} on {v}:\n{}", path.display(), render_diags(&d)))
                }
            }
        }
    }
    assert!(seen >= 4, "expected the four bundled examples");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each control's `values_keys` (what `check` and `audit` cite) match what
/// its `lower` sets: every value a control sets on any golden case and
/// chart release lies at or under one of its keys, and every key is set by
/// some case or is one the control only reads (`read_only_keys`).
#[test]
fn values_keys_cover_what_lower_sets() {
    use std::collections::BTreeMap;
    let mut set: BTreeMap<&str, BTreeSet<Vec<String>>> = BTreeMap::new();
    for v in VERSIONS {
        for case in cases() {
            let Ok(c) = compile_case(&case, v) else {
                continue;
            };
            for e in &c.plan.values {
                set.entry(e.origin.control)
                    .or_default()
                    .insert(e.path.clone());
            }
        }
    }
    let under = |path: &[String], key: &[String]| path.starts_with(key);
    let mut failures = Vec::new();
    for c in ALL {
        let def = c.def();
        let keys = def.values_paths();
        let paths = set.get(def.id).cloned().unwrap_or_default();
        for p in &paths {
            if !keys.iter().any(|k| under(p, k)) {
                failures.push(format!(
                    "{}: sets `{}`, which no values key covers",
                    def.id,
                    z2jh_policy::paths::dotted_values_path(p)
                ));
            }
        }
        for (k, dotted) in keys.iter().zip(def.values_keys) {
            let written = paths.iter().any(|p| under(p, k));
            let read_only = def.read_only_keys.contains(dotted);
            if !written && !read_only {
                failures.push(format!(
                    "{}: `{dotted}` is never set; list it in `read_only_keys` if the control only reads it",
                    def.id
                ));
            }
            if written && read_only {
                failures.push(format!(
                    "{}: `{dotted}` is set, but listed in `read_only_keys`",
                    def.id
                ));
            }
        }
        for k in def.read_only_keys {
            if !def.values_keys.contains(k) {
                failures.push(format!(
                    "{}: read-only `{k}` is not among `values_keys`",
                    def.id
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every file under `golden/` is one a test writes or reads. A compile
/// case holds its policy, the inputs the policy names and, per release,
/// the output of a case that compiles or the error of one that does not;
/// `diff/controls/` holds a pair per current control. Any other file must
/// be named by a test: its path (the extension may be formatted in), or a
/// folder of it from `golden/<area>/<name>` down, or `<name>` quoted beside
/// a test's `golden/<area>`.
#[test]
fn no_stale_golden_files() {
    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                files(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut sources = String::new();
    for dir in ["tests/it", "tests/it/common", "tests/it/admission"] {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.path().extension().is_some_and(|x| x == "rs") {
                sources.push_str(&std::fs::read_to_string(e.path()).unwrap());
            }
        }
    }
    let cases: BTreeSet<String> = cases().into_iter().collect();
    let ids: BTreeSet<&str> = ALL.iter().map(|c| c.def().id).collect();
    let mut expected: BTreeSet<String> = BTreeSet::new();
    for case in &cases {
        expected.insert(format!("golden/{case}/policy.yaml"));
        for v in VERSIONS {
            match compile_case(case, v) {
                Ok(_) => {
                    expected.insert(format!("golden/{case}/out-{v}.yaml"));
                    expected.insert(format!("golden/{case}/diagnostics-{v}.txt"));
                }
                Err(_) => {
                    expected.insert(format!("golden/{case}/error-{v}.txt"));
                }
            }
        }
    }
    let mut all = Vec::new();
    files(Path::new("golden"), &mut all);
    let mut stale = Vec::new();
    for p in all {
        let rel = p.to_string_lossy().replace('\\', "/");
        let parts: Vec<&str> = rel.split('/').collect();
        let ok = if parts.len() == 3 && cases.contains(parts[1]) {
            // A compile case: its outputs, and inputs its policy names.
            expected.contains(&rel)
                || std::fs::read_to_string(format!("golden/{}/policy.yaml", parts[1]))
                    .is_ok_and(|policy| policy.contains(parts[2]))
        } else if parts.len() > 2 && parts[1..3] == ["diff", "controls"] {
            parts.len() == 5
                && ids.contains(parts[3])
                && ["strong.yaml", "weak.yaml", "weaken.txt", "strengthen.txt"].contains(&parts[4])
        } else {
            let stem = rel.rsplit_once('.').map(|(s, _)| format!("{s}."));
            let named_folder = (3..parts.len()).any(|n| {
                let d = parts[..n].join("/");
                sources.contains(&format!("\"{d}\"")) || sources.contains(&format!("\"{d}/"))
            });
            let beside_area = parts.len() > 2
                && sources.contains(&format!("golden/{}", parts[1]))
                && (sources.contains(&format!("\"{}\"", parts[2]))
                    || sources.contains(&format!("\"{}.", parts[2])));
            sources.contains(&rel)
                || stem.is_some_and(|s| sources.contains(&s))
                || named_folder
                || beside_area
        };
        if ok {
            continue;
        }
        stale.push(rel);
    }
    assert!(
        stale.is_empty(),
        "golden files no test writes or reads (remove them, or name them in a test):\n{}",
        stale.join("\n")
    );
}

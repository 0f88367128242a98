//! The CEL quantity library, and policy strings that stay data in expressions.

use super::*;

#[test]
fn the_quantity_library_compares_as_kubernetes_does() {
    let q = |s: &str| quantity::parse(s).unwrap_or_else(|| panic!("{s}"));
    assert_eq!(q("500m"), q("0.5"));
    assert_eq!(q("1k"), q("1e3"));
    assert_eq!(q("1Ki"), q("1024"));
    assert!(q("1Gi") > q("1G"));
    assert!(q("4.3G") > q("4Gi"));
    assert!(q("4Gi") == q("4096Mi"));
    assert_eq!(q("1n"), 1);
    assert_eq!(q("-2"), -2_000_000_000);
    for bad in ["", "Gi", "1.2.3", "1x", "1 Gi", "--1", "1e"] {
        assert!(quantity::parse(bad).is_none(), "{bad}");
    }
    let eval_q = |e: &str| eval(e, &json!({}), "ns").unwrap();
    assert!(eval_q("quantity(\"2001m\").isGreaterThan(quantity(\"2\"))"));
    assert!(!eval_q(
        "quantity(\"2\").isGreaterThan(quantity(\"2000m\"))"
    ));
    assert!(eval_q("quantity(\"1Mi\").compareTo(quantity(\"1M\")) == 1"));
    assert!(eval_q("!isQuantity(\"fast\") && isQuantity(\"50M\")"));
    assert!(
        eval(
            "quantity(\"fast\").isLessThan(quantity(\"1\"))",
            &json!({}),
            "ns"
        )
        .is_err()
    );
}

const HOSTILE: &[&str] = &[
    "\" || true || \"",
    "' || true || '",
    "x\\\" || true || \\\"",
    "a\nb\r\t\u{0}",
    "\u{2028}}: {kind: Secret} #",
    "{{ 7*7 }}",
    "🦀 ünïcode",
    "\\u0022 || true",
];

#[test]
fn cel_literals_evaluate_to_exactly_the_string() {
    for s in HOSTILE {
        let lit = z2jh_policy::admission::cel::string(s);
        let got = eval(&format!("{lit} == object.s"), &json!({"s": s}), "ns");
        assert_eq!(got, Ok(true), "{s:?} as {lit}");
        let always = eval(&format!("{lit} == \"\""), &json!({}), "ns");
        assert_eq!(always, Ok(false), "{s:?} as {lit}");
    }
}

/// Policy strings that reach CEL (profile names, service account and
/// namespace names) are validated on input; even unvalidated, a hostile
/// one neither adds CEL nor YAML: the expression still tells the named
/// profile from another, and the objects keep their shape.
#[test]
fn hostile_policy_strings_cannot_inject_cel_or_yaml() {
    use z2jh_policy::parse::{Input, load};
    use z2jh_policy::policy::{ApiAccessMode, PodCreator, Profile, WorkloadIdentity};
    let (checks0, pod, ns) = case_pod("restricted");
    for s in HOSTILE {
        let mut loaded = load(&Input::Preset("restricted".into())).unwrap();
        let p = &mut loaded.policy;
        p.spec.user_pods.seccomp = Profile::Localhost((*s).to_string());
        p.spec.api_access.mode = ApiAccessMode::PodCreator;
        p.spec.api_access.pod_creator = Some(PodCreator {
            service_account: (*s).to_string(),
            ..serde_json::from_value(json!({"serviceAccount": "x", "workloadNamespace": "w",
                "apiServer": {"cidrs": ["10.0.0.1/32"], "ports": [443]}}))
            .unwrap()
        });
        let plan = z2jh_policy::lower::lower(&loaded);
        let rendered =
            z2jh_policy::render::render(&plan).unwrap_or_else(|e| panic!("{s:?}: {e:?}"));
        let objects = rendered.manifest_objects();
        let kinds: Vec<&str> = objects
            .iter()
            .filter_map(|m| m["kind"].as_str())
            .filter(|k| k.starts_with("ValidatingAdmission"))
            .collect();
        // user pods: a policy and two bindings; chart pods: a policy and its binding.
        assert_eq!(kinds.len(), 5, "{s:?}: {kinds:?}");
        let checks = checks(&objects, ".user-pods");
        assert_eq!(checks.len(), checks0.len(), "{s:?}");
        let seccomp: Vec<Check> = checks
            .iter()
            .filter(|c| c.message.starts_with("seccomp"))
            .cloned()
            .collect();
        assert!(
            seccomp[0].message.contains(s),
            "{s:?}: {}",
            seccomp[0].message
        );
        let with = |profile: &str| {
            let mut p = pod.clone();
            p["spec"]["securityContext"]["seccompProfile"] =
                json!({"type": "Localhost", "localhostProfile": profile});
            refused(&seccomp, &p, &ns).is_empty()
        };
        assert!(with(s), "{s:?}: the named profile is refused");
        assert!(!with("other"), "{s:?}: another profile is admitted");
        let token: Vec<Check> = checks
            .iter()
            .filter(|c| c.message.starts_with("api-access"))
            .cloned()
            .collect();
        let mut p = pod.clone();
        p["spec"]["automountServiceAccountToken"] = json!(true);
        p["spec"]["serviceAccountName"] = json!(s);
        assert!(
            refused(&token, &p, &ns).is_empty(),
            "{s:?}: its own account is refused"
        );
        p["spec"]["serviceAccountName"] = json!("default");
        assert!(
            !refused(&token, &p, &ns).is_empty(),
            "{s:?}: another account is admitted"
        );
        // The same for the account of `workload-identity`.
        let mut loaded = load(&Input::Preset("restricted".into())).unwrap();
        let p = &mut loaded.policy;
        p.spec.api_access.mode = ApiAccessMode::WorkloadIdentity;
        p.spec.api_access.workload_identity = Some(WorkloadIdentity {
            service_account: (*s).to_string(),
            provider: None,
            identity: None,
        });
        let plan = z2jh_policy::lower::lower(&loaded);
        let rendered =
            z2jh_policy::render::render(&plan).unwrap_or_else(|e| panic!("{s:?}: {e:?}"));
        let token: Vec<Check> = self::checks(&rendered.manifest_objects(), ".user-pods")
            .into_iter()
            .filter(|c| c.message.starts_with("api-access"))
            .collect();
        assert_eq!(token.len(), 1, "{s:?}");
        let mut p = pod.clone();
        p["spec"]["automountServiceAccountToken"] = json!(true);
        p["spec"]["serviceAccountName"] = json!(s);
        assert!(
            refused(&token, &p, &ns).is_empty(),
            "{s:?}: its own account is refused"
        );
        p["spec"]["serviceAccountName"] = json!("default");
        assert!(
            !refused(&token, &p, &ns).is_empty(),
            "{s:?}: another account is admitted"
        );
    }
}

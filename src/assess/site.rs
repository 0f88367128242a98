//! The `restricted` preset as `audit` grades against it: the site-specific
//! fields it leaves open (host names, TLS, contact, who may log in) taken
//! from the values, so the preset compiles and every fix can be shown.

use crate::diag::Diagnostic;
use crate::parse::{Input, Loaded, load};
use crate::policy::{Host, HttpsMode, IngressTls, Letsencrypt};
use crate::values;

/// The `restricted` preset filled in from the merged values.
pub fn restricted_for(merged: &serde_json::Value) -> Result<Loaded, Vec<Diagnostic>> {
    let mut loaded = load(&Input::Preset("restricted".into()))?;
    fill_site(&mut loaded, merged);
    fill_access(&mut loaded, merged);
    Ok(loaded)
}

/// The preset leaves the site's host names and contact to the user; take
/// them from the values when they are there, else example ones, so the
/// preset compiles and every fix can be shown. A hub served through the
/// chart's Ingress is graded against `https.mode: ingress` (as strong as
/// the preset's `letsencrypt`), so its fixes keep the Ingress.
fn fill_site(loaded: &mut Loaded, merged: &serde_json::Value) {
    use crate::validate::formats::{email, hostname, k8s_subdomain};
    let h = &mut loaded.policy.spec.https;
    let ingress = values::get_bool(merged, &["ingress", "enabled"]) == Some(true);
    if h.hosts.is_empty() {
        let from = if ingress {
            ["ingress", "hosts"].as_slice()
        } else {
            ["proxy", "https", "hosts"].as_slice()
        };
        let hosts: Vec<Host> = values::get_strs(merged, from)
            .into_iter()
            .filter(|s| hostname(s).is_ok())
            .map(|s| Host(s.to_string()))
            .collect();
        h.hosts = if hosts.is_empty() {
            vec![Host("hub.example.org".into())]
        } else {
            hosts
        };
    }
    if ingress {
        h.mode = HttpsMode::Ingress;
        let tls = values::get(merged, &["ingress", "tls"]).and_then(serde_json::Value::as_array);
        let secret = tls
            .into_iter()
            .flatten()
            .filter_map(|t| t.get("secretName").and_then(serde_json::Value::as_str))
            .find(|n| k8s_subdomain(n).is_ok());
        h.secret_name = Some(secret.unwrap_or("hub-tls").to_string());
        let class = values::get_str(merged, &["ingress", "ingressClassName"])
            .filter(|c| k8s_subdomain(c).is_ok());
        h.ingress = class.map(|c| IngressTls {
            class_name: Some(c.to_string()),
            annotations: Default::default(),
        });
    }
    if h.letsencrypt.is_none() {
        let contact = values::get_str(merged, &["proxy", "https", "letsencrypt", "contactEmail"])
            .filter(|e| email(e).is_ok())
            .unwrap_or("admin@example.org");
        h.letsencrypt = Some(Letsencrypt {
            contact_email: contact.to_string(),
            acme_server: None,
        });
    }
}

/// The users and groups the values list, so that the preset's `listed`
/// compiles; a placeholder when they list none (the values are then graded
/// as admitting more than a list).
fn fill_access(loaded: &mut Loaded, merged: &serde_json::Value) {
    use crate::policy::HubName;
    use crate::validate::formats::hub_name;
    let a = &mut loaded.policy.spec.access;
    if !a.users.is_empty() || !a.groups.is_empty() {
        return;
    }
    let listed = |name: &str| -> Vec<HubName> {
        values::get_strs(merged, &["hub", "config", "Authenticator", name])
            .into_iter()
            .filter(|n| hub_name(n).is_ok())
            .map(|n| HubName(n.to_string()))
            .collect()
    };
    a.users = listed("allowed_users");
    a.groups = listed("allowed_groups");
    if a.users.is_empty() && a.groups.is_empty() {
        a.users = vec![HubName("hub-user".into())];
    }
}

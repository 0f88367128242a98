//! HTTPS at the proxy, and internal TLS.

use std::path::Path;

use serde_json::{Value, json};

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::controls::lowering::Lowering;
use crate::plan::Selected;
use crate::policy::{HttpsMode, Policy};

pub struct HttpsControl;

static LETSENCRYPT: Setting = Setting {
    name: "letsencrypt",
    rank: 0,
    summary: "autohttps (Traefik) obtains certificates from Let's Encrypt for `hosts`",
};
static SECRET: Setting = Setting {
    name: "secret",
    rank: 0,
    summary: "the proxy serves a certificate from an existing TLS Secret",
};
static MANUAL: Setting = Setting {
    name: "manual",
    rank: 0,
    summary: "the proxy serves a certificate and key given as PEM files (the key lands in values.yaml)",
};
pub(super) static INGRESS: Setting = Setting {
    name: "ingress",
    rank: 0,
    summary: "an Ingress the chart creates serves a certificate from a TLS Secret; `proxy-public` is not exposed",
};
pub(super) static GATEWAY: Setting = Setting {
    name: "gateway",
    rank: 0,
    summary: "an HTTPRoute the chart creates attaches the hosts to a Gateway listener that terminates TLS; `proxy-public` is not exposed",
};
static OFFLOAD: Setting = Setting {
    name: "offload",
    rank: 1,
    summary: "a cloud load balancer terminates TLS; plain HTTP behind it",
};
pub(super) static DISABLED: Setting = Setting {
    name: "disabled",
    rank: 2,
    summary: "the proxy serves plain HTTP",
};

pub(super) const MODES: [HttpsMode; 7] = [
    HttpsMode::Letsencrypt,
    HttpsMode::Secret,
    HttpsMode::Manual,
    HttpsMode::Ingress,
    HttpsMode::Gateway,
    HttpsMode::Offload,
    HttpsMode::Disabled,
];

/// The setting of each mode.
pub(super) fn setting(mode: HttpsMode) -> &'static Setting {
    match mode {
        HttpsMode::Letsencrypt => &LETSENCRYPT,
        HttpsMode::Secret => &SECRET,
        HttpsMode::Manual => &MANUAL,
        HttpsMode::Ingress => &INGRESS,
        HttpsMode::Gateway => &GATEWAY,
        HttpsMode::Offload => &OFFLOAD,
        HttpsMode::Disabled => &DISABLED,
    }
}

pub(super) static DEF: ControlDef = ControlDef {
    id: "https",
    title: "HTTPS for the hub's public endpoint",
    field: "/spec/https/mode",
    rationale: "Logins, tokens and notebooks cross the network; without TLS anyone on the path reads them.",
    settings: &[
        &LETSENCRYPT,
        &SECRET,
        &MANUAL,
        &INGRESS,
        &GATEWAY,
        &OFFLOAD,
        &DISABLED,
    ],
    values_keys: &[
        "proxy.https.enabled",
        "proxy.https.type",
        "proxy.https.hosts",
        "ingress.enabled",
        "ingress.tls",
        "proxy.service.type",
        "proxy.https.letsencrypt.contactEmail",
        "proxy.https.secret.name",
        "proxy.https.manual.cert",
        "proxy.https.manual.key",
        "ingress.hosts",
        "ingress.ingressClassName",
        "ingress.annotations",
        "httpRoute",
    ],
    read_only_keys: &[],
    spawner_traits: &[],
};

pub(super) const PTR: &str = "/spec/https";

impl Control for HttpsControl {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn selected(&self, p: &Policy) -> Selected {
        setting(p.spec.https.mode).selected()
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let h = &p.spec.https;
        let hosts: Vec<&str> = h.hosts.iter().map(|x| x.0.as_str()).collect();
        let on = |cx: &mut Lowering, ty: &str| {
            cx.set(&["proxy", "https", "enabled"], json!(true));
            cx.set(&["proxy", "https", "type"], json!(ty));
            if !hosts.is_empty() {
                cx.set_at(
                    &format!("{PTR}/hosts"),
                    &["proxy", "https", "hosts"],
                    json!(hosts),
                );
            }
        };
        match h.mode {
            HttpsMode::Letsencrypt => {
                let mut ok = true;
                if hosts.is_empty() {
                    // The chart renders plain HTTP for letsencrypt without hosts.
                    cx.error(DEF.field, "`https.mode: letsencrypt` needs `spec.https.hosts`", "without hosts the chart silently serves plain HTTP; list the hub's public DNS names");
                    ok = false;
                }
                if h.letsencrypt.is_none() {
                    cx.error(
                        DEF.field,
                        "`https.mode: letsencrypt` needs `spec.https.letsencrypt.contactEmail`",
                        "add `letsencrypt: {contactEmail: admin@example.org}`",
                    );
                    ok = false;
                }
                if let (true, Some(le)) = (ok, &h.letsencrypt) {
                    on(cx, "letsencrypt");
                    cx.set_at(
                        &format!("{PTR}/letsencrypt/contactEmail"),
                        &["proxy", "https", "letsencrypt", "contactEmail"],
                        json!(le.contact_email),
                    );
                    if let Some(acme) = &le.acme_server {
                        cx.set_at(
                            &format!("{PTR}/letsencrypt/acmeServer"),
                            &["proxy", "https", "letsencrypt", "acmeServer"],
                            json!(acme),
                        );
                    }
                    cx.note(DEF.field, "Let's Encrypt must reach the hub on port 80 at every host name for the HTTP-01 challenge; do not set `proxy.service.disableHttpPort`");
                }
            }
            HttpsMode::Secret => match &h.secret_name {
                Some(name) => {
                    on(cx, "secret");
                    cx.set_at(
                        &format!("{PTR}/secretName"),
                        &["proxy", "https", "secret", "name"],
                        json!(name),
                    );
                    cx.note(&format!("{PTR}/secretName"), format!("the TLS Secret `{name}` (keys tls.crt, tls.key) must exist in namespace `{}`", p.metadata.namespace));
                }
                None => cx.error(
                    DEF.field,
                    "`https.mode: secret` needs `spec.https.secretName`",
                    "name an existing `kubernetes.io/tls` Secret in the hub namespace",
                ),
            },
            HttpsMode::Manual => match &h.manual {
                Some(m) => {
                    let base = cx
                        .prov
                        .source(&format!("{PTR}/manual"))
                        .map(|s| s.name.clone())
                        .unwrap_or_default();
                    let dir = Path::new(&base)
                        .parent()
                        .unwrap_or(Path::new(""))
                        .to_path_buf();
                    let cert = read_pem(
                        cx,
                        &dir,
                        &m.cert_file,
                        &format!("{PTR}/manual/certFile"),
                        "CERTIFICATE",
                    );
                    let key = read_pem(
                        cx,
                        &dir,
                        &m.key_file,
                        &format!("{PTR}/manual/keyFile"),
                        "PRIVATE KEY",
                    );
                    if let (Some(cert), Some(key)) = (cert, key) {
                        on(cx, "manual");
                        cx.set_at(
                            &format!("{PTR}/manual/certFile"),
                            &["proxy", "https", "manual", "cert"],
                            json!(cert),
                        );
                        cx.set_at(
                            &format!("{PTR}/manual/keyFile"),
                            &["proxy", "https", "manual", "key"],
                            json!(key),
                        );
                        cx.warn(&format!("{PTR}/manual/keyFile"), "the TLS private key is written into values.yaml", "keep that file out of git, or use `mode: secret` with a Secret managed elsewhere (e.g. cert-manager)");
                    }
                }
                None => cx.error(
                    DEF.field,
                    "`https.mode: manual` needs `spec.https.manual.certFile` and `keyFile`",
                    "give PEM files relative to the policy file",
                ),
            },
            HttpsMode::Ingress => super::https_ingress::lower(p, cx),
            HttpsMode::Gateway => super::https_gateway::lower(p, cx),
            HttpsMode::Offload => {
                on(cx, "offload");
                cx.note(DEF.field, "the load balancer in front of `proxy-public` must terminate TLS on 443; put its annotations (certificate ARN etc.) in `proxy.service.annotations`");
            }
            HttpsMode::Disabled => {
                cx.set(&["proxy", "https", "enabled"], json!(false));
                cx.warn(DEF.field, "the hub serves plain HTTP", "only acceptable behind a gateway or proxy that terminates TLS; otherwise choose `letsencrypt`, `secret`, `manual`, `ingress` or `offload`");
            }
        }
    }
    fn judge(&self, v: &ValuesView) -> super::Judgement {
        let mut j = super::Judgement::plain(self.read_back(v));
        // A Gateway's verdict is about the route's attachment: cite it.
        if super::https_gateway::decides(v) {
            j.by = Some(crate::effective::Origin::values(&[
                "httpRoute",
                "gateway",
                "name",
            ]));
        }
        j
    }
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        if v.bool(&["proxy", "https", "enabled"]) != Some(true) {
            return super::https_ingress::read_back(v);
        }
        let hosts = v
            .get(&["proxy", "https", "hosts"])
            .and_then(Value::as_array)
            .is_some_and(|h| !h.is_empty());
        ReadBack::Setting(
            match v.str(&["proxy", "https", "type"]).unwrap_or("letsencrypt") {
                "letsencrypt" if hosts => LETSENCRYPT.selected(),
                "letsencrypt" => {
                    // Without hosts the chart renders no autohttps: what
                    // serves the hub is the Ingress, or nothing.
                    match super::https_ingress::read_back(v) {
                        ReadBack::Setting(s) if !s.is(&DISABLED) => return ReadBack::Setting(s),
                        other @ ReadBack::CannotVerify { .. } => return other,
                        _ => DISABLED.with("letsencrypt without hosts serves plain HTTP"),
                    }
                }
                "secret" => SECRET.selected(),
                "manual" => MANUAL.selected(),
                "offload" => OFFLOAD.selected(),
                _ => DISABLED.selected(),
            },
        )
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        use crate::policy::{Host, Letsencrypt};
        use crate::validate::formats::{email, hostname, k8s_subdomain};
        let Some(got) = super::read_setting(self, v) else {
            return Vec::new();
        };
        let h = &mut p.spec.https;
        let mut lost = Vec::new();
        h.hosts = crate::values::get_strs(v.values, &["proxy", "https", "hosts"])
            .into_iter()
            .filter(|s| hostname(s).is_ok())
            .map(|s| Host(s.to_string()))
            .collect();
        h.mode = match super::value_of(&MODES, setting, &got).unwrap_or(HttpsMode::Disabled) {
            HttpsMode::Letsencrypt => {
                let contact = v
                    .str(&["proxy", "https", "letsencrypt", "contactEmail"])
                    .filter(|e| email(e).is_ok());
                if contact.is_none() {
                    lost.push("no valid `proxy.https.letsencrypt.contactEmail`: `https.letsencrypt.contactEmail` is a placeholder".into());
                }
                h.letsencrypt = Some(Letsencrypt {
                    contact_email: contact.unwrap_or("admin@example.org").to_string(),
                    acme_server: None,
                });
                HttpsMode::Letsencrypt
            }
            HttpsMode::Secret => match v
                .str(&["proxy", "https", "secret", "name"])
                .filter(|n| k8s_subdomain(n).is_ok())
            {
                Some(name) => {
                    h.secret_name = Some(name.to_string());
                    HttpsMode::Secret
                }
                None => {
                    lost.push("`proxy.https.type: secret` without a valid `proxy.https.secret.name`; proposed `offload`".into());
                    HttpsMode::Offload
                }
            },
            HttpsMode::Manual => {
                lost.push("the certificate and key are inline in the values; `https.mode: manual` takes PEM files (`manual.certFile`, `keyFile`), so the proposal says `offload` — switch to `manual` with the files, or to `secret`".into());
                HttpsMode::Offload
            }
            HttpsMode::Ingress => super::https_ingress::propose(v, h, &mut lost),
            HttpsMode::Gateway => super::https_gateway::propose(v, h),
            HttpsMode::Offload => HttpsMode::Offload,
            HttpsMode::Disabled => HttpsMode::Disabled,
        };
        lost
    }
}

fn read_pem(cx: &mut Lowering, dir: &Path, file: &str, ptr: &str, label: &str) -> Option<String> {
    let path = dir.join(file);
    // Bounded like every input file: a path to a device or pipe cannot exhaust memory.
    match crate::parse::read_text(&path) {
        Ok(text) if text.contains("-----BEGIN ") && text.contains(label) => Some(text),
        Ok(_) => {
            cx.error(
                ptr,
                format!("`{}` is not a PEM {}", path.display(), label.to_lowercase()),
                format!("expected a file with a `-----BEGIN ...{label}-----` block"),
            );
            None
        }
        Err(e) => {
            cx.error(ptr, e.message, "paths are relative to the policy file");
            None
        }
    }
}

#[cfg(test)]
mod mapping_tests {
    use super::*;

    /// Every setting is some mode's: the list of modes misses none.
    #[test]
    fn every_setting_maps_back_to_its_mode() {
        super::super::assert_every_setting_maps_back(&DEF, &MODES, setting);
    }
}

//! TLS between hub, proxy and user servers (JupyterHub `internal_ssl`).

use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::lower::Lowering;
use crate::plan::Selected;
use crate::policy::{InternalTls, Policy};

pub struct InternalTlsControl;

static REQUIRED: Setting = Setting {
    name: "required",
    rank: 0,
    summary: "refused: the chart cannot configure internal TLS",
};
static NOT_REQUIRED: Setting = Setting {
    name: "not-required",
    rank: 1,
    summary: "plain HTTP inside the cluster, as the chart does",
};

static DEF: ControlDef = ControlDef {
    id: "internal-tls",
    title: "TLS inside the cluster",
    field: "/spec/internalTls",
    rationale: "Traffic between proxy, hub and user servers is plain HTTP in z2jh; anyone who can sniff the pod network reads it.",
    settings: &[&REQUIRED, &NOT_REQUIRED],
    values_keys: &["hub.extraConfig"],
    read_only_keys: &["hub.extraConfig"],
    spawner_traits: &[],
};

impl Control for InternalTlsControl {
    fn def(&self) -> &'static ControlDef {
        &DEF
    }
    fn selected(&self, p: &Policy) -> Selected {
        match p.spec.internal_tls {
            InternalTls::Required => &REQUIRED,
            InternalTls::NotRequired => &NOT_REQUIRED,
        }
        .selected()
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        if p.spec.internal_tls == InternalTls::Required {
            cx.error(
                DEF.field,
                "`internalTls: required` cannot be met by the z2jh chart",
                "the chart hard-codes http:// between hub, proxy and user servers and never mounts JupyterHub's internal certificates into the proxy; \
                 encrypt pod traffic with a service mesh (mTLS) or CNI encryption (Cilium or Calico WireGuard) and set `internalTls: not-required`",
            );
        }
    }
    fn read_back(&self, v: &ValuesView) -> ReadBack {
        if v.extra_config_mentions("internal_ssl") {
            return ReadBack::CannotVerify {
                reason: "hub.extraConfig sets internal_ssl in Python".into(),
            };
        }
        ReadBack::Setting(NOT_REQUIRED.selected())
    }
}

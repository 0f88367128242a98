//! seccomp and AppArmor profiles of user pods, set through KubeSpawner's
//! security-context traits (the AppArmor annotation before Kubernetes 1.30).

use serde_json::{Value, json};

use super::cloud_metadata::every_user_container;
use super::user_pods::{CTR_CTX, POD_CTX, ctx_get, path};
use super::{Control, ControlDef, ReadBack, Setting, ValuesView};
use crate::admission::Validation;
use crate::admission::cel::{self, Lists, context_field};
use crate::controls::lowering::Lowering;
use crate::plan::Selected;
use crate::policy::{Policy, Profile};

/// The settings of a profile control (seccomp, AppArmor), one per kind
/// of profile.
pub(crate) struct Profiles {
    pub runtime_default: &'static Setting,
    pub localhost: &'static Setting,
    pub unset: &'static Setting,
}

/// A kind of profile, least confining last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    RuntimeDefault,
    Localhost,
    Unset,
}

impl Profiles {
    pub fn of(&self, kind: Kind) -> &'static Setting {
        match kind {
            Kind::RuntimeDefault => self.runtime_default,
            Kind::Localhost => self.localhost,
            Kind::Unset => self.unset,
        }
    }

    fn selected(&self, p: &Profile) -> Selected {
        match p {
            Profile::RuntimeDefault => self.runtime_default.selected(),
            Profile::Localhost(name) => self.localhost.with(name.clone()),
            Profile::Unset => self.unset.selected(),
        }
    }

    fn of_type(&self, ty: Option<&str>, name: Option<&str>) -> Selected {
        match ty {
            Some("RuntimeDefault") => self.runtime_default.selected(),
            Some("Localhost") => self.localhost.with(name.unwrap_or_default()),
            _ => self.unset.selected(),
        }
    }

    /// The policy's form of a read-back profile setting, and what it lost.
    fn policy(&self, got: &Selected) -> (Profile, Option<String>) {
        if got.is(self.runtime_default) {
            return (Profile::RuntimeDefault, None);
        }
        if !got.is(self.localhost) {
            return (Profile::Unset, None);
        }
        match got.detail.as_deref() {
            Some(name) if crate::validate::formats::profile_name(name).is_ok() => {
                (Profile::Localhost(name.to_string()), None)
            }
            name => (
                Profile::RuntimeDefault,
                Some(format!(
                    "the Localhost profile `{}` is not a valid profile name; proposed `runtime-default`",
                    name.unwrap_or_default()
                )),
            ),
        }
    }
}

/// CEL over a profile field `f`: RuntimeDefault, or Localhost (the
/// policy's profile when it names one).
fn confining(profile: &Profile, f: &str) -> String {
    match profile {
        Profile::Localhost(name) => format!(
            "{f}.type == \"RuntimeDefault\" || ({f}.type == \"Localhost\" && has({f}.localhostProfile) && {f}.localhostProfile == {})",
            cel::string(name)
        ),
        _ => format!("{f}.type in [\"RuntimeDefault\", \"Localhost\"]"),
    }
}

/// CEL over `c`: a confining seccomp profile in force (also asked of chart pods).
pub(super) fn seccomp_confined(profile: &Profile) -> String {
    context_field("seccompProfile", true, |f| confining(profile, f), "false")
}

/// CEL over `c`: a confining AppArmor profile in force, from the field or,
/// where neither the container nor the pod sets it, the beta annotation.
fn app_armor_confined(profile: &Profile) -> String {
    let value = format!(
        "object.metadata.annotations[{} + c.name]",
        cel::string("container.apparmor.security.beta.kubernetes.io/")
    );
    let accepted = match profile {
        Profile::Localhost(name) => format!(
            "{value} == \"runtime/default\" || {value} == {}",
            cel::string(&format!("localhost/{name}"))
        ),
        _ => format!("{value} == \"runtime/default\" || {value}.startsWith(\"localhost/\")"),
    };
    let annotation = format!(
        "(has(object.metadata.annotations) && ({} + c.name) in object.metadata.annotations && ({accepted}))",
        cel::string("container.apparmor.security.beta.kubernetes.io/")
    );
    context_field(
        "appArmorProfile",
        true,
        |f| confining(profile, f),
        &annotation,
    )
}

/// What a profile setting asks of every container, in words.
fn profile_rule(what: &str, profile: &Profile) -> String {
    match profile {
        Profile::Localhost(name) => format!(
            "every container must run with the {what} profile RuntimeDefault or Localhost `{name}`"
        ),
        _ => {
            format!("every container must run with the {what} profile RuntimeDefault or Localhost")
        }
    }
}

pub struct Seccomp;

/// Settings of `seccomp`.
pub(crate) mod seccomp {
    use super::Profiles;
    use crate::controls::Setting;

    pub static RUNTIME_DEFAULT: Setting = Setting {
        name: "runtime-default",
        rank: 0,
        summary: "`seccompProfile: {type: RuntimeDefault}` on the pod",
    };
    pub static LOCALHOST: Setting = Setting {
        name: "localhost",
        rank: 0,
        summary: "a profile file installed on every node",
    };
    pub static UNSET: Setting = Setting {
        name: "unset",
        rank: 1,
        summary: "no profile: most runtimes run the pod unconfined",
    };
    pub static PROFILES: Profiles = Profiles {
        runtime_default: &RUNTIME_DEFAULT,
        localhost: &LOCALHOST,
        unset: &UNSET,
    };
}

static SECCOMP: ControlDef = ControlDef {
    id: "seccomp",
    title: "seccomp profile of user pods",
    field: "/spec/userPods/seccomp",
    rationale: "seccomp filters the system calls a container may make, removing much of the kernel's attack surface.",
    settings: &[
        &seccomp::RUNTIME_DEFAULT,
        &seccomp::LOCALHOST,
        &seccomp::UNSET,
    ],
    values_keys: &[
        "hub.config.KubeSpawner.container_security_context",
        "hub.config.KubeSpawner.pod_security_context",
    ],
    read_only_keys: &["hub.config.KubeSpawner.container_security_context"],
    spawner_traits: &[
        "pod_security_context",
        "container_security_context",
        "extra_pod_config",
        "extra_container_config",
    ],
};

impl Control for Seccomp {
    fn def(&self) -> &'static ControlDef {
        &SECCOMP
    }
    fn pod_security(&self, p: &Policy) -> Option<super::pod_security::PssReason> {
        (p.spec.user_pods.seccomp == Profile::Unset)
            .then(|| super::pod_security::PssReason::Baseline("`userPods.seccomp` is unset".into()))
    }
    fn selected(&self, p: &Policy) -> Selected {
        seccomp::PROFILES.selected(&p.spec.user_pods.seccomp)
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        match &p.spec.user_pods.seccomp {
            Profile::RuntimeDefault => cx.set(
                &path(POD_CTX, &["seccompProfile"]),
                json!({"type": "RuntimeDefault"}),
            ),
            Profile::Localhost(name) => {
                cx.set(
                    &path(POD_CTX, &["seccompProfile"]),
                    json!({"type": "Localhost", "localhostProfile": name}),
                );
                cx.note(SECCOMP.field, format!("the seccomp profile `{name}` must exist under the kubelet's seccomp root on every node, or user pods fail to start"));
            }
            Profile::Unset => cx.warn(
                SECCOMP.field,
                "user servers run without a seccomp profile (unconfined on most runtimes)",
                "set `userPods.seccomp: runtime-default` (required for the restricted level)",
            ),
        }
    }
    fn judge(&self, v: &ValuesView) -> super::Judgement {
        let keys = {
            let at = |b: &[&str]| {
                let ty = ctx_get(v, b, &["seccompProfile", "type"]).and_then(Value::as_str);
                ty.map(|t| {
                    seccomp::PROFILES.of_type(
                        Some(t),
                        ctx_get(v, b, &["seccompProfile", "localhostProfile"])
                            .and_then(Value::as_str),
                    )
                })
            };
            ReadBack::Setting(
                at(CTR_CTX)
                    .or_else(|| at(POD_CTX))
                    .unwrap_or_else(|| seccomp::UNSET.selected()),
            )
        };
        super::reconcile(
            keys,
            v.judge_pods(&SECCOMP, crate::effective::grade::seccomp),
        )
    }
    fn admission(&self, p: &Policy) -> Vec<Validation> {
        let profile = &p.spec.user_pods.seccomp;
        if *profile == Profile::Unset {
            return Vec::new();
        }
        vec![Validation::user(
            SECCOMP.field,
            profile_rule("seccomp", profile) + " (seccompProfile, its own or the pod's)",
            every_user_container(p, Lists::All, &seccomp_confined(profile)),
        )]
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        match super::read_setting(self, v) {
            Some(got) => {
                let (profile, lost) = seccomp::PROFILES.policy(&got);
                p.spec.user_pods.seccomp = profile;
                lost.into_iter().collect()
            }
            None => Vec::new(),
        }
    }
}

pub struct AppArmor;

/// Settings of `apparmor`.
pub(crate) mod app_armor {
    use super::Profiles;
    use crate::controls::Setting;

    pub static RUNTIME_DEFAULT: Setting = Setting {
        name: "runtime-default",
        rank: 0,
        summary: "`appArmorProfile: {type: RuntimeDefault}` (Kubernetes ≥ 1.30) or the beta annotation before",
    };
    pub static LOCALHOST: Setting = Setting {
        name: "localhost",
        rank: 0,
        summary: "a profile loaded on every node",
    };
    pub static UNSET: Setting = Setting {
        name: "unset",
        rank: 1,
        summary: "the runtime decides",
    };
    pub static PROFILES: Profiles = Profiles {
        runtime_default: &RUNTIME_DEFAULT,
        localhost: &LOCALHOST,
        unset: &UNSET,
    };
}

static APPARMOR: ControlDef = ControlDef {
    id: "apparmor",
    title: "AppArmor profile of user pods",
    field: "/spec/userPods/appArmor",
    rationale: "AppArmor confines file and capability use on nodes that run it; stating it also documents intent for policy engines.",
    settings: &[
        &app_armor::RUNTIME_DEFAULT,
        &app_armor::LOCALHOST,
        &app_armor::UNSET,
    ],
    values_keys: &[
        "hub.config.KubeSpawner.container_security_context",
        "singleuser.extraAnnotations[container.apparmor.security.beta.kubernetes.io/notebook]",
    ],
    read_only_keys: &[],
    spawner_traits: &[
        "container_security_context",
        "extra_annotations",
        "extra_container_config",
    ],
};

const APPARMOR_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/notebook";

impl Control for AppArmor {
    fn def(&self) -> &'static ControlDef {
        &APPARMOR
    }
    fn selected(&self, p: &Policy) -> Selected {
        app_armor::PROFILES.selected(&p.spec.user_pods.app_armor)
    }
    fn lower(&self, p: &Policy, cx: &mut Lowering) {
        let profile = &p.spec.user_pods.app_armor;
        if *profile == Profile::Unset {
            return;
        }
        if cx.k8s_minor >= 30 {
            let v = match profile {
                Profile::Localhost(name) => json!({"type": "Localhost", "localhostProfile": name}),
                _ => json!({"type": "RuntimeDefault"}),
            };
            cx.set(&path(CTR_CTX, &["appArmorProfile"]), v);
        } else {
            // The field only exists from 1.30; older clusters read the annotation.
            let v = match profile {
                Profile::Localhost(name) => format!("localhost/{name}"),
                _ => "runtime/default".to_string(),
            };
            cx.set(
                &["singleuser", "extraAnnotations", APPARMOR_ANNOTATION],
                json!(v),
            );
        }
        if let Profile::Localhost(name) = profile {
            cx.note(APPARMOR.field, format!("the AppArmor profile `{name}` must be loaded on every node, or user pods fail to start"));
        }
    }
    fn judge(&self, v: &ValuesView) -> super::Judgement {
        let keys = (|| -> ReadBack {
            if let Some(t) =
                ctx_get(v, CTR_CTX, &["appArmorProfile", "type"]).and_then(Value::as_str)
            {
                let name = ctx_get(v, CTR_CTX, &["appArmorProfile", "localhostProfile"])
                    .and_then(Value::as_str);
                return ReadBack::Setting(app_armor::PROFILES.of_type(Some(t), name));
            }
            match v.str(&["singleuser", "extraAnnotations", APPARMOR_ANNOTATION]) {
                Some("runtime/default") => ReadBack::Setting(app_armor::RUNTIME_DEFAULT.selected()),
                Some(s) if s.starts_with("localhost/") => {
                    ReadBack::Setting(app_armor::LOCALHOST.with(&s["localhost/".len()..]))
                }
                _ => ReadBack::Setting(app_armor::UNSET.selected()),
            }
        })();
        super::reconcile(
            keys,
            v.judge_pods(&APPARMOR, crate::effective::grade::app_armor),
        )
    }
    fn admission(&self, p: &Policy) -> Vec<Validation> {
        let profile = &p.spec.user_pods.app_armor;
        if *profile == Profile::Unset {
            return Vec::new();
        }
        vec![Validation::user(
            APPARMOR.field,
            profile_rule("AppArmor", profile)
                + " (appArmorProfile, its own or the pod's, or the container's beta annotation)",
            every_user_container(p, Lists::All, &app_armor_confined(profile)),
        )]
    }
    fn propose(&self, v: &ValuesView, p: &mut Policy) -> Vec<String> {
        match super::read_setting(self, v) {
            Some(got) => {
                let (profile, lost) = app_armor::PROFILES.policy(&got);
                p.spec.user_pods.app_armor = profile;
                lost.into_iter().collect()
            }
            None => Vec::new(),
        }
    }
}

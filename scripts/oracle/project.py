"""The security-relevant projection of a user pod (see README.md, "Projection").

Input: a pod as the Kubernetes API receives it (camelCase keys, the output of
ApiClient.sanitize_for_serialization). Output: a small JSON value that the Rust
engine reproduces exactly.
"""

POD_KEYS = (
    "serviceAccountName",
    "automountServiceAccountToken",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "hostUsers",
    "runtimeClassName",
    "securityContext",
)
CONTAINER_KEYS = ("name", "image", "imagePullPolicy", "securityContext", "resources")
MOUNT_KEYS = ("name", "mountPath", "subPath", "readOnly")
# Environment variables a control reads (the rest are KubeSpawner's own).
ENV_NAMES = ("JUPYTERHUB_ALLOW_TOKEN_IN_URL",)
# Per volume source type, the fields kept besides the type itself.
VOLUME_FIELDS = {
    "hostPath": ("path",),
    "nfs": ("server", "path"),
    "persistentVolumeClaim": ("claimName",),
    "secret": ("secretName",),
}
ANNOTATIONS = ("kubernetes.io/egress-bandwidth", "kubernetes.io/ingress-bandwidth")
ANNOTATION_PREFIXES = (
    "container.apparmor.security.beta.kubernetes.io/",
    "container.seccomp.security.alpha.kubernetes.io/",
    "seccomp.security.alpha.kubernetes.io/",
)
LABELS = ("component",)
LABEL_PREFIXES = ("hub.jupyter.org/network-access-",)


def prune(value):
    """Drop nulls, then empty maps and lists, recursively: Kubernetes treats
    them as absent, and keeping them would make comparisons noisy."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = prune(v)
            if v is not None:
                out[k] = v
        return out or None
    if isinstance(value, list):
        out = [v for v in (prune(v) for v in value) if v is not None]
        return out or None
    return value


def _pick(obj, keys):
    return {k: obj[k] for k in keys if k in obj}


def _selected(mapping, exact, prefixes):
    return {k: v for k, v in (mapping or {}).items() if k in exact or k.startswith(prefixes)}


def _volume(vol):
    out = {"name": vol.get("name")}
    sources = sorted(k for k in vol if k != "name" and vol[k] is not None)
    # A valid volume has exactly one source; anything else is reported as is.
    out["type"] = sources[0] if len(sources) == 1 else "+".join(sources) or None
    if len(sources) == 1:
        out.update(_pick(vol[sources[0]] or {}, VOLUME_FIELDS.get(sources[0], ())))
    return out


def _container(c, kind):
    out = {"kind": kind}
    out.update(_pick(c, CONTAINER_KEYS))
    out["volumeMounts"] = [_pick(m, MOUNT_KEYS) for m in c.get("volumeMounts") or []]
    out["hostPorts"] = [p["hostPort"] for p in c.get("ports") or [] if p.get("hostPort") is not None]
    out["env"] = [e for e in c.get("env") or [] if e.get("name") in ENV_NAMES]
    return out


def project(pod):
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    out = _pick(spec, POD_KEYS)
    out["annotations"] = _selected(meta.get("annotations"), ANNOTATIONS, ANNOTATION_PREFIXES)
    out["labels"] = _selected(meta.get("labels"), LABELS, LABEL_PREFIXES)
    out["volumes"] = [_volume(v) for v in spec.get("volumes") or []]
    out["containers"] = [_container(c, "init") for c in spec.get("initContainers") or []] + [
        _container(c, "main") for c in spec.get("containers") or []
    ]
    return prune(out) or {}

#!/usr/bin/env python3
"""Build the user pods a z2jh hub would spawn, with the chart's real
jupyterhub_config.py and the real KubeSpawner, without a Kubernetes cluster.

Merged Helm values arrive as JSON on stdin (or are merged here from
--values-files over the chart defaults). The result is JSON on stdout:

    {"pods": [{"profile": slug|null, "option": {...}|null, "pod": {...}}],
     "errors": [{"profile": ..., "option": ..., "error": "..."}]}

Must run inside the virtualenv made by setup.sh for the same chart version.
See README.md beside this file for what is and is not faithful.
"""

import argparse
import asyncio
import contextlib
import copy
import json
import os
import sys
import tempfile
import types

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from merge import merge_files  # noqa: E402
from project import project  # noqa: E402

# Fixed fakes, so that two runs give byte-identical output.
RELEASE = "jhub"
NAMESPACE = "jhub"
USER_NAME = "user1"
USER_ID = 1
API_TOKEN = "0123456789abcdef0123456789abcdef"
SECRET_TOKEN = "fedcba9876543210fedcba9876543210"
UNLISTED_SAMPLE = "example.org/unlisted/image:1.0"
HUB_MOUNT = "/usr/local/etc/jupyterhub/"
SERVICE_PORTS = {"hub": "8081", "proxy-api": "8001", "proxy-public": "80", "proxy-http": "8000"}
# What the hub image's environment would hold (only PATH matters: env_keep).
FIXED_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}


# ---------------------------------------------------------------------------
# The files the hub pod has mounted under /usr/local/etc/jupyterhub/
# ---------------------------------------------------------------------------


def fullname(values, chart_name):
    """The chart's jupyterhub.fullname helper (no parent-chart case)."""
    override = values.get("fullnameOverride")
    if isinstance(override, str):
        return override
    name = values.get("nameOverride") or chart_name
    return RELEASE if name in RELEASE else f"{RELEASE}-{name}"


def name_templates(values, chart_name):
    """The ConfigMap keys rendered by the jupyterhub.name-templates helper."""
    full = fullname(values, chart_name)
    dash = f"{full}-" if full else ""

    def sa(cfg, default_name):
        # serviceAccount helpers: create -> name or default; else name or "default"
        cfg = cfg or {}
        if cfg.get("create"):
            return cfg.get("name") or default_name
        return cfg.get("name") or "default"

    hub = values.get("hub", {}) or {}
    proxy = values.get("proxy", {}) or {}
    sched = (values.get("scheduling", {}) or {}).get("userScheduler", {}) or {}
    pre = values.get("prePuller", {}) or {}
    hook = pre.get("hook", {}) or {}
    cont = pre.get("continuous", {}) or {}
    existing = hub.get("existingSecret") or ""
    names = {
        "fullname": full,
        "fullname-dash": dash,
        "hub": f"{dash}hub",
        "hub-serviceaccount": sa(hub.get("serviceAccount"), f"{dash}hub"),
        "hub-existing-secret": existing,
        "hub-existing-secret-or-default": existing or f"{dash}hub",
        "hub-pvc": f"{dash}hub-db-dir",
        "proxy": f"{dash}proxy",
        "proxy-api": f"{dash}proxy-api",
        "proxy-http": f"{dash}proxy-http",
        "proxy-public": f"{dash}proxy-public",
        "proxy-public-tls": f"{dash}proxy-public-tls-acme",
        "proxy-public-manual-tls": f"{dash}proxy-public-manual-tls",
        "autohttps": f"{dash}autohttps",
        "autohttps-serviceaccount": sa(
            (proxy.get("traefik", {}) or {}).get("serviceAccount"), f"{dash}autohttps"
        ),
        "user-scheduler-deploy": f"{dash}user-scheduler",
        "user-scheduler-serviceaccount": sa(sched.get("serviceAccount"), f"{dash}user-scheduler"),
        "user-scheduler-lock": f"{dash}user-scheduler-lock",
        "user-placeholder": f"{dash}user-placeholder",
        "image-puller-priority": f"{dash}image-puller" if full else f"{RELEASE}-image-puller-priority",
        "hook-image-awaiter": f"{dash}hook-image-awaiter",
        "hook-image-awaiter-serviceaccount": sa(hook.get("serviceAccount"), f"{dash}hook-image-awaiter"),
        "hook-image-puller": f"{dash}hook-image-puller",
        "hook-image-puller-serviceaccount": (hook.get("serviceAccountImagePuller") or {}).get("name")
        or f"{dash}hook-image-puller",
        "continuous-image-puller": f"{dash}continuous-image-puller",
        "continuous-image-puller-serviceaccount": (cont.get("serviceAccount") or {}).get("name")
        or f"{dash}continuous-image-puller",
        "singleuser": f"{dash}singleuser",
        "image-pull-secret": f"{dash}image-pull-secret",
        "ingress": full or "jupyterhub",
        "priority": full or f"{RELEASE}-default-priority",
        "user-placeholder-priority": f"{dash}user-placeholder" if full else f"{RELEASE}-user-placeholder-priority",
        "user-scheduler": f"{dash}user-scheduler" if full else f"{RELEASE}-user-scheduler",
    }
    return names


def write_mounts(root, values, chart):
    """Write what the hub pod's ConfigMap and Secret mounts would contain."""
    config_dir = os.path.join(root, "config")
    secret_dir = os.path.join(root, "secret")
    os.makedirs(config_dir)
    os.makedirs(secret_dir)
    names = name_templates(values, chart["Name"])
    for key, value in names.items():
        with open(os.path.join(config_dir, key), "w") as f:
            f.write(value)

    # The hub Secret's values.yaml: .Values plus a subset of .Chart / .Release.
    secret_values = copy.deepcopy(values)
    secret_values["Chart"] = dict(chart)
    secret_values["Release"] = {"Name": RELEASE, "Namespace": NAMESPACE, "Service": "Helm"}
    with open(os.path.join(secret_dir, "values.yaml"), "w") as f:
        yaml.safe_dump(secret_values, f)

    hub = values.get("hub", {}) or {}
    secrets = {
        "hub.config.ConfigurableHTTPProxy.auth_token": SECRET_TOKEN,
        "hub.config.JupyterHub.cookie_secret": SECRET_TOKEN * 2,
        "hub.config.CryptKeeper.keys": SECRET_TOKEN * 2,
    }
    if (hub.get("db") or {}).get("password"):
        secrets["hub.db.password"] = str(hub["db"]["password"])
    for key, service in sorted((hub.get("services") or {}).items()):
        secrets[f"hub.services.{key}.apiToken"] = str((service or {}).get("apiToken") or SECRET_TOKEN)
    for key, value in secrets.items():
        with open(os.path.join(secret_dir, key), "w") as f:
            f.write(value)
    return names


def fake_environment(values, names):
    """Environment of the hub container: Kubernetes service links, the chart's
    env entries, and hub.extraEnv (valueFrom entries get a placeholder)."""
    for key in list(os.environ):
        if key not in ("HOME", "TMPDIR", "LANG", "LC_ALL"):
            del os.environ[key]
    os.environ.update(FIXED_ENV)
    for short, port in SERVICE_PORTS.items():
        svc = names[short].upper().replace("-", "_")
        os.environ[f"{svc}_SERVICE_HOST"] = f"10.0.0.{len(svc)}"
        os.environ[f"{svc}_SERVICE_PORT"] = port
    os.environ["PYTHONUNBUFFERED"] = "1"
    os.environ["HELM_RELEASE_NAME"] = RELEASE
    os.environ["POD_NAMESPACE"] = NAMESPACE
    os.environ["CONFIGPROXY_AUTH_TOKEN"] = SECRET_TOKEN
    extra_env = (values.get("hub", {}) or {}).get("extraEnv") or {}
    if isinstance(extra_env, dict):
        extra_env = [
            {"name": k, **(v if isinstance(v, dict) else {"value": v})} for k, v in extra_env.items()
        ]
    for item in extra_env:
        value = item.get("value")
        os.environ[item["name"]] = "placeholder" if value is None else str(value)


class _RedirectedPath:
    def __init__(self, root):
        self._root = root

    def __getattr__(self, attr):
        return getattr(os.path, attr)

    def exists(self, path):
        return os.path.exists(redirect(self._root, path))


class _RedirectedOs:
    """Stands in for `os` inside z2jh.py only: same module, but paths under
    /usr/local/etc/jupyterhub/ resolve into the temp directory."""

    def __init__(self, root):
        self.path = _RedirectedPath(root)

    def __getattr__(self, attr):
        return getattr(os, attr)


def redirect(root, path):
    if isinstance(path, str) and path.startswith(HUB_MOUNT):
        return os.path.join(root, path[len(HUB_MOUNT):])
    return path


def patch_z2jh(hub_dir, root):
    """Import the chart's own z2jh.py and make it read the temp directory.

    jupyterhub_config.py puts its own directory first on sys.path and imports
    z2jh; importing it first from the same directory means it gets this very
    module object, whose code is unchanged but whose `open` and `os.path.exists`
    globals are redirected.
    """
    sys.path.insert(0, hub_dir)
    import z2jh

    z2jh.os = _RedirectedOs(root)
    z2jh.open = lambda path, *a, **kw: open(redirect(root, path), *a, **kw)
    return z2jh


def load_chart_config(hub_dir):
    """Run jupyterhub_config.py the way JupyterHub's load_config_file does."""
    from traitlets.config.loader import PyFileConfigLoader

    loader = PyFileConfigLoader("jupyterhub_config.py", path=hub_dir)
    return loader.load_config()


# ---------------------------------------------------------------------------
# Spawning without a cluster
# ---------------------------------------------------------------------------


class _NoKubernetesApi:
    """Replaces the CoreV1Api client: any use is a bug in the harness."""

    def __getattr__(self, attr):
        raise RuntimeError(f"Kubernetes API used offline: {attr}")


def patch_kubespawner():
    import kubespawner.spawner as ks

    # KubeSpawner.__init__ loads kube config and makes a shared API client;
    # reflectors only start in _start(), which is never called here.
    ks.load_config = lambda *a, **kw: None
    ks.shared_client = lambda *a, **kw: _NoKubernetesApi()
    return ks.KubeSpawner


def make_hub(cfg):
    from jupyterhub.objects import Hub
    from jupyterhub.utils import url_path_join

    jh = cfg.get("JupyterHub", {})
    base_url = jh.get("base_url", "/") if "base_url" in jh else "/"
    hub = Hub(base_url=url_path_join(base_url, "hub/"), bind_url=jh.get("hub_bind_url", "http://:8081"))
    if jh.get("hub_connect_url"):
        hub.connect_url = jh["hub_connect_url"]
    return hub, base_url


def make_spawner(KubeSpawner, cfg, hub, base_url, user_options):
    from jupyterhub.objects import Server
    from jupyterhub.utils import url_path_join

    user_url = url_path_join(base_url, "user", USER_NAME, "/")
    user = types.SimpleNamespace(
        name=USER_NAME, id=USER_ID, url=user_url, groups=[], server=None, escaped_name=USER_NAME
    )
    orm_spawner = types.SimpleNamespace(
        name="", server=None, state=None, user_options=user_options, last_activity=None, started=None
    )
    kwargs = dict(
        user=user,
        hub=hub,
        orm_spawner=orm_spawner,
        config=cfg,
        oauth_client_id=f"jupyterhub-user-{USER_NAME}",
        cookie_options={},
        trusted_alt_names=[],
        user_options=user_options,
        proxy_spec=user_url,
    )
    traits = KubeSpawner.class_trait_names()
    spawner = KubeSpawner(**{k: v for k, v in kwargs.items() if k in traits})
    spawner.server = Server(base_url=user_url)
    return spawner


async def spawn_pod(KubeSpawner, cfg, hub, base_url, user_options):
    """Mirror User.spawn + KubeSpawner._start up to the pod create request.

    JupyterHub's User.spawn (jupyterhub/user.py) sets user_options, calls
    clear_state(), sets api_token, runs the auth_state hook (auth_state is None
    here: no authenticator state), then (JupyterHub 5) apply_group_overrides and
    _run_apply_user_options, then run_pre_spawn_hook(), then spawner.start().
    KubeSpawner._start calls load_user_options() (profile overrides), skips to
    get_pod_manifest(), and passes the result through modify_pod_hook right
    before create_namespaced_pod. So pre_spawn_hook runs BEFORE profile
    overrides are applied, and modify_pod_hook sees the final pod.
    """
    from jupyterhub.utils import maybe_future

    spawner = make_spawner(KubeSpawner, cfg, hub, base_url, user_options)
    spawner.user_options = user_options
    spawner.clear_state()
    spawner.api_token = API_TOKEN
    await spawner.run_auth_state_hook(None)
    if hasattr(spawner, "apply_group_overrides"):
        await spawner.apply_group_overrides()
    if hasattr(spawner, "_run_apply_user_options"):
        await spawner._run_apply_user_options(spawner.user_options)
    await maybe_future(spawner.run_pre_spawn_hook())
    # --- KubeSpawner._start ---
    await spawner.load_user_options()
    pod = await spawner.get_pod_manifest()
    if spawner.modify_pod_hook:
        pod = await maybe_future(spawner.modify_pod_hook(spawner, pod))
    return pod


async def variants(KubeSpawner, cfg, hub, base_url, unlisted_sample):
    """(profile, option, user_options) for the default server and each
    profile / option choice / unlisted choice, one option varied at a time."""
    out = [(None, None, {})]
    probe = make_spawner(KubeSpawner, cfg, hub, base_url, {})
    profile_list = probe.profile_list
    if callable(profile_list):
        from jupyterhub.utils import maybe_future

        profile_list = await maybe_future(profile_list(probe))
    for profile in probe._get_initialized_profile_list(profile_list or []):
        slug = profile["slug"]
        out.append((slug, None, {"profile": slug}))
        for opt_name in sorted(profile.get("profile_options") or {}):
            opt = profile["profile_options"][opt_name]
            for choice in sorted(opt.get("choices") or {}):
                out.append((slug, {opt_name: choice}, {"profile": slug, opt_name: choice}))
            if (opt.get("unlisted_choice") or {}).get("enabled"):
                key = f"{opt_name}--unlisted-choice"
                out.append((slug, {key: unlisted_sample}, {"profile": slug, key: unlisted_sample}))
    return out


def describe(exc):
    return f"{type(exc).__name__}: {exc}"


async def build(values, hub_dir, chart, unlisted_sample):
    from kubernetes_asyncio.client import ApiClient

    result = {"pods": [], "errors": []}
    with tempfile.TemporaryDirectory(prefix="z2jh-oracle-") as root:
        names = write_mounts(root, values, chart)
        fake_environment(values, names)
        patch_z2jh(hub_dir, root)
        KubeSpawner = patch_kubespawner()
        try:
            cfg = load_chart_config(hub_dir)
        except (Exception, SystemExit) as e:
            result["errors"].append({"profile": None, "option": None, "error": "config: " + describe(e)})
            return result
        hub, base_url = make_hub(cfg)
        try:
            todo = await variants(KubeSpawner, cfg, hub, base_url, unlisted_sample)
        except Exception as e:
            result["errors"].append({"profile": None, "option": None, "error": "profiles: " + describe(e)})
            todo = [(None, None, {})]
        api = ApiClient()
        try:
            for slug, option, user_options in todo:
                try:
                    pod = await spawn_pod(KubeSpawner, cfg, hub, base_url, user_options)
                    pod = api.sanitize_for_serialization(pod)
                except Exception as e:
                    result["errors"].append({"profile": slug, "option": option, "error": describe(e)})
                    continue
                result["pods"].append({"profile": slug, "option": option, "pod": pod})
        finally:
            await api.close()
    return result


def read_chart(hub_dir, chart_version):
    chart = {"Name": "jupyterhub", "Version": chart_version, "AppVersion": None}
    path = os.path.join(hub_dir, os.pardir, "Chart.yaml")
    if os.path.exists(path):
        with open(path) as f:
            meta = yaml.safe_load(f) or {}
        chart["Name"] = meta.get("name", chart["Name"])
        chart["Version"] = chart_version or str(meta.get("version"))
        chart["AppVersion"] = meta.get("appVersion")
    if not chart["Version"]:
        sys.exit("build_pods: no Chart.yaml beside the hub dir; pass --chart-version")
    return chart


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hub-dir", required=True, help="dir with jupyterhub_config.py and z2jh.py")
    ap.add_argument("--chart-version", help="default: version in ../Chart.yaml")
    ap.add_argument(
        "--values-files",
        nargs="+",
        metavar="YAML",
        help="merge these over ../values.yaml (chart defaults) instead of reading stdin",
    )
    ap.add_argument("--project", action="store_true", help="reduce each pod to its projection")
    ap.add_argument("--unlisted-sample", default=UNLISTED_SAMPLE, help="value sent for unlisted_choice")
    args = ap.parse_args()

    hub_dir = os.path.abspath(args.hub_dir)
    chart = read_chart(hub_dir, args.chart_version)
    if args.values_files:
        values = merge_files(os.path.join(hub_dir, os.pardir, "values.yaml"), args.values_files)
    else:
        values = json.load(sys.stdin)

    # The chart's config and KubeSpawner print to stdout; keep it for the JSON.
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        result = asyncio.run(build(values, hub_dir, chart, args.unlisted_sample))
    if args.project:
        for entry in result["pods"]:
            entry["pod"] = project(entry["pod"])
    json.dump(result, out, indent=2, sort_keys=True)
    out.write("\n")
    return 1 if result["errors"] and not result["pods"] else 0


if __name__ == "__main__":
    sys.exit(main())

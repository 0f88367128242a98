#!/usr/bin/env bash
# Create (or reuse) a virtualenv holding KubeSpawner and JupyterHub at exactly
# the versions the hub image of a chart version pins.
#
#   setup.sh CHART_VERSION VENV_DIR [REQUIREMENTS_TXT]
#
# REQUIREMENTS_TXT defaults to ${Z2JH_HUB_FILES:-../shared/z2jh}/<v>/hub/requirements.txt
# (relative to the repository root). The hub image's pip-compiled file is used
# as a constraints file, so every transitive dependency gets the image's
# version, but only what importing jupyterhub_config.py and kubespawner needs is
# installed (not the authenticators, the idle culler, database drivers...).
#
# Exit codes: 0 ready, 2 requirements file missing, 3 pip failed.
set -euo pipefail

version="${1:?usage: setup.sh CHART_VERSION VENV_DIR [REQUIREMENTS_TXT]}"
venv="${2:?usage: setup.sh CHART_VERSION VENV_DIR [REQUIREMENTS_TXT]}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
hub_files="${Z2JH_HUB_FILES:-$root/../shared/z2jh}"
reqs="${3:-$hub_files/$version/hub/requirements.txt}"
python="${PYTHON:-python3}"

if [[ ! -f "$reqs" ]]; then
  echo "oracle: no requirements file at $reqs" >&2
  exit 2
fi

# Top-level packages: kubespawner pulls jupyterhub, kubernetes-asyncio, escapism,
# jinja2, python-slugify, pyyaml, traitlets; the chart's config imports tornado's
# curl HTTP client, which needs pycurl.
packages=(jupyterhub-kubespawner pycurl)

# Constraints may not carry extras or markers: keep bare name==version pins.
constraints="$(sed -E -n 's/^([A-Za-z0-9_.-]+)(\[[^]]*\])?==([^ ;#]+).*/\1==\3/p' "$reqs")"
for p in jupyterhub-kubespawner jupyterhub kubernetes-asyncio; do
  grep -qi "^$p==" <<<"$constraints" || { echo "oracle: $reqs pins no $p" >&2; exit 2; }
done
stamp_want="$(printf '%s\n%s\n' "${packages[*]}" "$constraints" | sha256sum | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$venv/.oracle-stamp" && "$(cat "$venv/.oracle-stamp")" == "$stamp_want" ]]; then
  exit 0
fi

rm -rf "$venv"
"$python" -m venv "$venv"
cfile="$venv/constraints.txt"
printf '%s\n' "$constraints" >"$cfile"
if ! "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input \
  -c "$cfile" "${packages[@]}" >&2; then
  echo "oracle: pip install failed for chart $version" >&2
  exit 3
fi
echo "$stamp_want" >"$venv/.oracle-stamp"

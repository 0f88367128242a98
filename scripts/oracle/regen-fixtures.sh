#!/usr/bin/env bash
# Regenerate tests/fixtures/pods/<case>/expected-<version>.json with the oracle.
#
#   regen-fixtures.sh [OUT_DIR]
#
# OUT_DIR defaults to tests/fixtures/pods (in place); check.sh passes a temp
# dir. Chart files come from ${Z2JH_HUB_FILES:-../shared/z2jh}/<version>/, the
# virtualenvs are cached under ${ORACLE_VENVS:-~/.cache/z2jh-policy/oracle-venvs}/<version>.
# Exit codes: 0 done, 2 chart files missing, 3 pip failed, 1 a case failed.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/scripts/oracle"
cases="$root/tests/fixtures/pods"
out="${1:-$cases}"
hub_files="${Z2JH_HUB_FILES:-$root/../shared/z2jh}"
venvs="${ORACLE_VENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/z2jh-policy/oracle-venvs}"
versions=(${ORACLE_VERSIONS:-4.4.0 3.3.8})

for v in "${versions[@]}"; do
  [[ -f "$hub_files/$v/hub/jupyterhub_config.py" ]] || { echo "oracle: no hub files at $hub_files/$v/hub" >&2; exit 2; }
done
for v in "${versions[@]}"; do
  "$here/setup.sh" "$v" "$venvs/$v" "$hub_files/$v/hub/requirements.txt"
done

# One lane per chart version; the cases of a lane run one after the other.
regen_version() {
  local v="$1" failed=0 case name
  for case in "$cases"/*/; do
    name="$(basename "$case")"
    mkdir -p "$out/$name"
    if ! "$venvs/$v/bin/python" "$here/build_pods.py" --hub-dir "$hub_files/$v/hub" \
      --chart-version "$v" --values-files "$case/values.yaml" --project \
      >"$out/$name/expected-$v.json" 2>"$out/$name/.stderr-$v"; then
      echo "oracle: $name ($v) failed:" >&2
      cat "$out/$name/.stderr-$v" >&2
      failed=1
    fi
    rm -f "$out/$name/.stderr-$v"
  done
  return "$failed"
}

pids=()
for v in "${versions[@]}"; do
  regen_version "$v" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
exit "$status"

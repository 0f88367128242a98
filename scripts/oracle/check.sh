#!/usr/bin/env bash
# Live oracle check: rebuild every fixture's expected pods with the real chart
# config and KubeSpawner, and diff them against the committed expected files.
#
# Skips (exit 0, "oracle: skipped: <why>") when the chart's hub files are not
# at ${Z2JH_HUB_FILES:-../shared/z2jh}/<version>/hub, when python3 is missing,
# or when pip cannot reach the package registry. Exits 1 on any difference.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/scripts/oracle"
cases="$root/tests/fixtures/pods"
export Z2JH_HUB_FILES="${Z2JH_HUB_FILES:-$root/../shared/z2jh}"
export ORACLE_VENVS="${ORACLE_VENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/z2jh-policy/oracle-venvs}"
versions=(${ORACLE_VERSIONS:-4.4.0 3.3.8})

skip() {
  echo "oracle: skipped: $*"
  exit 0
}

command -v python3 >/dev/null || skip "python3 not found"
for v in "${versions[@]}"; do
  [[ -f "$Z2JH_HUB_FILES/$v/hub/jupyterhub_config.py" && -f "$Z2JH_HUB_FILES/$v/hub/requirements.txt" ]] ||
    skip "no hub files at $Z2JH_HUB_FILES/$v/hub"
done

for v in "${versions[@]}"; do
  rc=0
  "$here/setup.sh" "$v" "$ORACLE_VENVS/$v" || rc=$?
  if [[ $rc -eq 3 ]]; then
    # Tell an unreachable registry (skip) from a real install failure (fail)
    # by fetching one small pinned package.
    probe="$(mktemp -d)"
    pin="$(grep -i '^escapism==' "$Z2JH_HUB_FILES/$v/hub/requirements.txt" || echo escapism)"
    if ! python3 -m pip download --quiet --no-deps --no-cache-dir --disable-pip-version-check \
      -d "$probe" "$pin" >/dev/null 2>&1; then
      rm -rf "$probe"
      skip "pip cannot reach the package registry"
    fi
    rm -rf "$probe"
  fi
  [[ $rc -eq 0 ]] || { echo "oracle: setup failed for chart $v (exit $rc)"; exit 1; }
done

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
regen_rc=0
"$here/regen-fixtures.sh" "$out" || regen_rc=$?

passed=0
failed=0
for case in "$cases"/*/; do
  name="$(basename "$case")"
  for v in "${versions[@]}"; do
    want="$case/expected-$v.json"
    got="$out/$name/expected-$v.json"
    if [[ -f "$want" && -f "$got" ]] && diff -u --label "committed/$name/expected-$v.json" \
      --label "oracle/$name/expected-$v.json" "$want" "$got"; then
      passed=$((passed + 1))
    else
      [[ -f "$want" ]] || echo "oracle: $name: no committed expected-$v.json"
      failed=$((failed + 1))
    fi
  done
done
[[ $regen_rc -eq 0 ]] || echo "oracle: regenerating failed (exit $regen_rc)"
echo "oracle: $passed passed, $failed failed"
[[ $failed -eq 0 && $regen_rc -eq 0 ]]

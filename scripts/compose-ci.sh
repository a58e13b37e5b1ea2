#!/usr/bin/env bash
# The images and the compose stack, for real: lint, build, size limits, staging/prod configuration,
# `up --wait` of the dev profile, the smoke test, a webhook secret rotation under load, and
# `down -v` always (also on failure).
#
#   bash scripts/compose-ci.sh          # what .ci/run does after the tests
#   KEEP_STACK=1 bash scripts/compose-ci.sh   # leave the stack and images (to debug; it prints how to remove them)
#
# Its own compose project and image tag (tgbot-ci-<pid>, tag ci-<pid>) and ephemeral host ports, so
# it never meets a stack or image of a developer or of another run on the same engine.
set -o errexit -o pipefail -o nounset

cd "$(dirname "$0")/.."
started=$(date +%s)
step() { echo "::: [compose +$(( $(date +%s) - started ))s] $*"; }

PROJECT=${COMPOSE_CI_PROJECT:-tgbot-ci-$$}
export TAG=${COMPOSE_CI_TAG:-ci-$$}
export BOT_IMAGE=tgbot-bot ADMIN_IMAGE=tgbot-admin
export BOT_PORT=0 ADMIN_PORT=0 SANDBOX_PORT=0   # Docker picks free host ports
PYTHON_IMAGE=${PYTHON_IMAGE:-python:3.12-slim-bookworm}
BOT_LIMIT_MB=80
ADMIN_LIMIT_MB=110
dev() { docker compose -p "$PROJECT" --profile dev --env-file /dev/null "$@"; }

work=$(mktemp -d)
up=0
cleanup() {
  status=$?
  if [ "$up" = 1 ]; then
    if [ "$status" != 0 ]; then
      echo "::: compose failed (exit $status): the last 200 log lines of each service" >&2
      dev ps -a >&2 || true
      dev logs --no-color --tail 200 >&2 || true
    fi
    if [ "${KEEP_STACK:-0}" = 1 ]; then
      echo "::: stack left up: docker compose -p $PROJECT --profile dev down -v --remove-orphans"
    else
      step "down -v"
      dev down -v --remove-orphans --timeout 10 >/dev/null 2>&1 || true
    fi
  fi
  if [ "${KEEP_STACK:-0}" != 1 ]; then
    docker image rm "$BOT_IMAGE:$TAG" "$ADMIN_IMAGE:$TAG" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

step "hadolint"
uv run hadolint Dockerfile.bot Dockerfile.admin Dockerfile.backup

step "staging and prod configuration (.env.example)"
for profile in staging prod; do
  docker compose --profile "$profile" --env-file .env.example config -q
done
# A missing public webhook URL stops `up` before anything starts, with compose's one line.
grep -v '^WEBHOOK_URL=' .env.example >"$work/no-webhook.env"
if docker compose --profile prod --env-file "$work/no-webhook.env" config -q 2>"$work/err"; then
  echo "prod without WEBHOOK_URL validated; it must not" >&2; exit 1
fi
grep -q "set WEBHOOK_URL in .env" "$work/err" || { cat "$work/err" >&2; exit 1; }
echo "  without WEBHOOK_URL: $(cat "$work/err")"

# The version hatch-vcs gives this checkout (the build context has no .git, so it goes in as a
# build argument): the labels, `--version` and /healthz must all say it.
export VERSION REVISION
VERSION=$(uv run --quiet python -c "from tgbot.version import VERSION; print(VERSION)")
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
step "build images ($BOT_IMAGE:$TAG, $ADMIN_IMAGE:$TAG, version $VERSION)"
for service in bot admin; do
  docker build --quiet -f "Dockerfile.$service" -t "tgbot-$service:$TAG" \
    --build-arg PYTHON_IMAGE="$PYTHON_IMAGE" --build-arg VERSION="$VERSION" \
    --build-arg REVISION="$REVISION" . >/dev/null
done

step "versions: the OCI label and --version of each image say $VERSION"
for service in bot admin; do
  label=$(docker image inspect "tgbot-$service:$TAG" \
    --format '{{ index .Config.Labels "org.opencontainers.image.version" }}')
  said=$(docker run --rm --entrypoint "tg$service" "tgbot-$service:$TAG" --version)
  echo "  tgbot-$service: label $label, --version: $said"
  [ "$label" = "$VERSION" ] && [ "$said" = "tg$service $VERSION" ] || {
    echo "tgbot-$service: expected version $VERSION everywhere" >&2; exit 1; }
done

step "image sizes: layers added over $PYTHON_IMAGE"
base_layers=$(docker history -q "$PYTHON_IMAGE" | wc -l)
added_mb() {
  docker history --human=false --format '{{.Size}}' "$1" | head -n "-$base_layers" |
    awk '{ s += $1 } END { printf "%.1f", s / 1e6 }'
}
for pair in "bot:$BOT_LIMIT_MB" "admin:$ADMIN_LIMIT_MB"; do
  service=${pair%%:*} limit=${pair#*:}
  size=$(added_mb "tgbot-$service:$TAG")
  echo "  tgbot-$service: $size MB (limit $limit MB)"
  awk -v s="$size" -v l="$limit" 'BEGIN { exit !(s <= l) }' || {
    echo "tgbot-$service adds $size MB over $PYTHON_IMAGE; the limit is $limit MB" >&2; exit 1; }
done

step "a malformed bot token stops prod's migrate one-shot with one readable line"
mkdir -p "$work/secrets"
cp compose/dev/secrets/* "$work/secrets/"
: >"$work/secrets/telegram_bot_token"
{ cat .env.example; echo "SECRETS_DIR=$work/secrets"; echo "BOT_IMAGE=$BOT_IMAGE"; echo "TAG=$TAG"; } \
  >"$work/prod.env"
if docker compose -p "$PROJECT-prod" --profile prod --env-file "$work/prod.env" \
    run --rm --no-deps migrate >/dev/null 2>"$work/err"; then
  echo "prod migrate ran with an empty token; it must not" >&2; exit 1
fi
grep -q "^config error: TELEGRAM_BOT_TOKEN: " "$work/err" || { cat "$work/err" >&2; exit 1; }
echo "  $(grep '^config error' "$work/err")"
docker compose -p "$PROJECT-prod" --profile prod --env-file "$work/prod.env" \
  down -v --remove-orphans >/dev/null 2>&1 || true

# The dev stack reads a copy of the dev secrets, so the rotation below never touches the repo's.
mkdir -p "$work/dev-secrets"
cp compose/dev/secrets/* "$work/dev-secrets/"
export SECRETS_DIR="$work/dev-secrets"

step "up -d --wait (dev profile, project $PROJECT)"
up=1
dev up -d --wait --wait-timeout 240 --no-build

step "smoke test"
url() { echo "http://$(dev port "$1" "$2")"; }
uv run python -m scripts.compose_smoke \
  --bot-url "$(url bot 8080)" --admin-url "$(url admin 8000)" --sandbox-url "$(url sandbox 8081)" \
  --version "$VERSION"

step "webhook secret rotation while users write (docs/operations.md)"
uv run python -m scripts.compose_rotate --project "$PROJECT" \
  --secret-file "$work/dev-secrets/webhook_secret" --sandbox-url "$(url sandbox 8081)"

step "ok"

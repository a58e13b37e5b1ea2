#!/usr/bin/env bash
# The images and the compose stack, for real: lint, build, size limits, staging/prod configuration,
# `up --wait` of the dev profile, the smoke test, a webhook secret rotation under load, then a
# staging-like stack behind the edge proxy (Caddy getting its certificates from Pebble,
# compose/test/edge.yaml) smoke-tested over https://, and `down -v` always (also on failure).
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
# The staging profile with the test overlay (Pebble, the sandbox as Telegram); its .env is written
# below. Compose needs the two PEM paths to read the file even before they exist.
edge() {
  PEBBLE_MINICA="$work/pebble.minica.pem" PEBBLE_ROOT="$work/pebble-root.pem" \
    docker compose -p "$PROJECT-edge" -f compose.yaml -f compose/test/edge.yaml \
    --env-file "$work/edge.env" "$@"
}

work=$(mktemp -d)
up=0
edge_up=0
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
  if [ "$edge_up" = 1 ]; then
    if [ "$status" != 0 ]; then
      echo "::: edge stack: the last 200 log lines of each service" >&2
      edge ps -a >&2 || true
      edge logs --no-color --tail 200 >&2 || true
    fi
    if [ "${KEEP_STACK:-0}" = 1 ]; then
      echo "::: edge stack left up: docker compose -p $PROJECT-edge down -v --remove-orphans"
    else
      step "down -v (edge)"
      edge down -v --remove-orphans --timeout 10 >/dev/null 2>&1 || true
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

if [ "${KEEP_STACK:-0}" != 1 ]; then
  step "down -v (dev)"
  dev down -v --remove-orphans --timeout 10 >/dev/null 2>&1
  up=0
fi

step "edge: staging behind the TLS proxy, certificates from Pebble (project $PROJECT-edge)"
mkdir -p "$work/edge-secrets"
cp compose/dev/secrets/* "$work/edge-secrets/"
# Staging refuses the dev placeholders that say so (a django-insecure- key outside DEBUG).
python3 -c 'import secrets; print(secrets.token_urlsafe(48))' >"$work/edge-secrets/django_secret_key"
python3 -c 'import secrets; print(secrets.token_urlsafe(18))' >"$work/edge-secrets/admin_password"
# The shell's SECRETS_DIR (the dev stack's copy, exported above) would win over the env file.
export SECRETS_DIR="$work/edge-secrets"
{
  echo "COMPOSE_PROFILES=staging"
  echo "TGBOT_ENV=staging"
  echo "SECRETS_DIR=$work/edge-secrets"
  echo "BOT_IMAGE=$BOT_IMAGE"
  echo "ADMIN_IMAGE=$ADMIN_IMAGE"
  echo "TAG=$TAG"
  echo "WEBHOOK_URL=https://bot.test/telegram/webhook"
  echo "ADMIN_HOST=admin.test"
  echo "ACME_EMAIL=ci@example.com"
  echo "HTTP_BIND=127.0.0.1"
  echo "HTTP_PORT=0"
  echo "HTTPS_BIND=127.0.0.1"
  echo "HTTPS_PORT=0"
  echo "SANDBOX_PORT=0"
  echo "RESTART_POLICY=no"
  # backups run in tests/integration/ops (scaled to 0 here); staging requires their settings
  echo "BACKUP_AGE_RECIPIENT=age1unused"
  echo "BACKUP_S3_ENDPOINT=http://unused"
  echo "BACKUP_S3_BUCKET=unused"
} >"$work/edge.env"
pebble_image=${PEBBLE_IMAGE:-ghcr.io/letsencrypt/pebble:latest}
docker run --rm --entrypoint cat "$pebble_image" /test/certs/pebble.minica.pem >"$work/pebble.minica.pem"
edge_up=1
edge up -d --no-build pebble
# The root Pebble signs certificates with is made when it starts: fetch it from its management
# port (served with the minica certificate), for the sandbox and the smoke test to trust.
pebble_port=$(edge port pebble 15000 | sed 's/.*://')
for _ in $(seq 1 60); do
  if curl -sf --cacert "$work/pebble.minica.pem" "https://localhost:$pebble_port/roots/0" \
      -o "$work/pebble-root.pem"; then break; fi
  sleep 0.5
done
grep -q "BEGIN CERTIFICATE" "$work/pebble-root.pem" || { echo "no root from Pebble" >&2; exit 1; }
edge up -d --wait --wait-timeout 240 --no-build --scale backup=0   # backups: tests/integration/ops

step "smoke test through https:// (edge)"
proxy_port() { edge port proxy "$1" | sed 's/.*://'; }
uv run python -m scripts.compose_smoke \
  --edge-http-port "$(proxy_port 80)" --edge-https-port "$(proxy_port 443)" \
  --ca-file "$work/pebble-root.pem" --sandbox-url "http://$(edge port sandbox 8081)" \
  --admin-password "$(cat "$work/edge-secrets/admin_password")"

step "edge: the proxy's access log is JSON, without query strings, headers or the webhook secret"
edge logs --no-color --no-log-prefix proxy >"$work/proxy.log"
grep '"logger":"http.log.access' "$work/proxy.log" >"$work/access.log" || true
grep -q '"uri":"/telegram/webhook"' "$work/access.log" || {
  echo "no webhook request in the proxy's access log" >&2; cat "$work/proxy.log" >&2; exit 1; }
grep -q '"uri":"/admin/login/"' "$work/access.log" || {
  echo "no admin request in the proxy's access log" >&2; exit 1; }
for leak in smoke-query-string X-Telegram-Bot-Api-Secret-Token Cookie \
    "$(cat "$work/edge-secrets/webhook_secret")"; do
  if grep -qF -- "$leak" "$work/proxy.log"; then
    echo "the proxy's log shows $leak" >&2; exit 1
  fi
done
echo "  $(wc -l <"$work/access.log") access log lines, none with a query string or a header"

step "ok"

#!/bin/sh
# Entrypoint of the edge proxy: WEBHOOK_HOST and WEBHOOK_PATH from WEBHOOK_URL (the bot's own
# setting, so the two cannot disagree), a readable line for a bad value, then Caddy as PID 1.
set -o errexit -o nounset

fail() { echo "config error: $*" >&2; exit 2; }

case "${WEBHOOK_URL:-}" in
  https://*/*) ;;
  "") fail "WEBHOOK_URL: not set" ;;
  *) fail "WEBHOOK_URL: must be https://host[:port]/path (Telegram posts over HTTPS only)" ;;
esac
[ -n "${ADMIN_HOST:-}" ] || fail "ADMIN_HOST: not set"
[ -n "${ACME_EMAIL:-}" ] || fail "ACME_EMAIL: not set (the certificate authority's contact address)"
rest=${WEBHOOK_URL#https://}
WEBHOOK_HOST=${rest%%/*}
WEBHOOK_PATH=/${rest#*/}
WEBHOOK_PATH=${WEBHOOK_PATH%%\?*}
case "$WEBHOOK_HOST" in
  *:*) port=${WEBHOOK_HOST##*:} ;;
  *) port=443 ;;
esac
case "$port" in
  443 | 88 | 8443) ;;
  *) fail "WEBHOOK_URL: Telegram posts only to ports 443, 88 and 8443 (got $port)" ;;
esac
[ "$WEBHOOK_HOST" != "$ADMIN_HOST" ] || fail "ADMIN_HOST: must differ from WEBHOOK_URL's host"
export WEBHOOK_HOST WEBHOOK_PATH

exec caddy run --config /etc/caddy/Caddyfile --adapter caddyfile

#!/usr/bin/env bash
# Zero-downtime update (or rollback) of a compose deployment to another image tag:
#
#   scripts/compose-roll.sh 0.2.0                 # update: the images tgbot-bot:0.2.0, tgbot-admin:0.2.0
#   scripts/compose-roll.sh 0.1.0                 # rollback: the same command with the old tag
#   scripts/compose-roll.sh -p tgbot --env-file /etc/tgbot/.env -f compose.yaml 0.2.0
#
# Everything before the tag goes to `docker compose` as is (project, env file, compose files).
# The images must be on the host first (`docker compose build` with TAG=<tag>, or a pull from your
# registry); the script never builds or pulls, so a typo in the tag stops it before anything moves.
#
# In order:
#   1. migrate: the `migrate` and `admin-migrate` one-shots of the new tag (alembic, advisory-locked;
#      schema changes must be expand-only for the old replicas still running, see docs/compose.md);
#   2. for bot, admin, dispatcher in turn: start as many new replicas as run now (alongside the old
#      ones, off the edge network), wait until every new one is healthy (/readyz), connect them to
#      the edge network (the proxy's next new connection may go to them: it looks the service's
#      name up in Docker's DNS for every connection), then stop the old ones with SIGTERM: each
#      closes its listener (the proxy's dialer moves on to a replica that listens), answers what
#      arrives on its open connections with `Connection: close` until the proxy closed them all
#      (SHUTDOWN_DRAIN_SECONDS), finishes its in-flight updates and exits, within the service's
#      stop_grace_period;
#   3. TAG=<tag> in the env file, so a later `docker compose up -d` keeps the new version.
# A new replica that does not become healthy within ROLL_READY_TIMEOUT seconds (default 240) stops
# the roll: the new replicas of that service are removed, the old ones keep serving, exit 1.
set -o errexit -o pipefail -o nounset

usage() { echo "usage: $0 [docker compose options...] TAG" >&2; exit 2; }
[ "$#" -ge 1 ] || usage
args=("$@")
tag=${args[-1]}
unset 'args[-1]'
case "$tag" in -* | "") usage ;; esac
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || { echo "not an image tag: $tag" >&2; exit 2; }

cd "$(dirname "$0")/.."
ready_timeout=${ROLL_READY_TIMEOUT:-240}
services=${ROLL_SERVICES:-bot admin dispatcher}
started=$(date +%s)
step() { echo "::: [roll +$(( $(date +%s) - started ))s] $*"; }
compose() { TAG=$tag docker compose "${args[@]}" "$@"; }

# The env file to record the tag in: the one given with --env-file, else ./.env when present.
env_file=.env
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --env-file) env_file=${args[i + 1]:-} ;;
    --env-file=*) env_file=${args[i]#--env-file=} ;;
  esac
done

step "images of tag $tag"
# shellcheck disable=SC2086 # $services is a list of names
for image in $(compose config --images migrate admin-migrate $services | sort -u); do
  case "$image" in
    *:"$tag")
      docker image inspect "$image" >/dev/null 2>&1 || {
        echo "image $image is not on this host: build or pull it first" >&2; exit 1; } ;;
  esac
done

step "migrate (tag $tag)"
compose run --rm --no-deps migrate
compose run --rm --no-deps admin-migrate

# Container ids of a service, oldest first (--all: created ones too).
ids() { compose ps -q "$@" | xargs -r docker inspect -f '{{.Created}} {{.Id}}' | sort | cut -d' ' -f2; }
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$1"; }

roll() {
  local service=$1 old new count id deadline pending
  mapfile -t old < <(ids "$service")
  count=${#old[@]}
  if [ "$count" = 0 ]; then
    step "$service: not running; starting it"
    compose up -d --no-deps --wait --wait-timeout "$ready_timeout" "$service"
    return
  fi
  step "$service: $count old replica(s); starting $count of tag $tag beside them"
  # The edge network (the proxy's) of the service, if it is on one: new replicas join it, and so
  # the proxy's view of Docker's DNS, only once healthy.
  edge=$(docker inspect -f '{{range $name, $_ := .NetworkSettings.Networks}}{{println $name}}{{end}}' \
    "${old[0]}" | grep -E '_edge$' || true)
  compose up --no-start --no-deps --no-recreate --scale "$service=$((count * 2))" "$service"
  mapfile -t new < <(ids --all "$service" | grep -vxF -f <(printf '%s\n' "${old[@]}") || true)
  [ "${#new[@]}" = "$count" ] || { echo "$service: expected $count new replicas, got ${#new[@]}" >&2; exit 1; }
  for id in "${new[@]}"; do
    [ -z "$edge" ] || docker network disconnect "$edge" "$id"
    docker start "$id" >/dev/null
  done

  deadline=$(( $(date +%s) + ready_timeout ))
  while :; do
    pending=0
    for id in "${new[@]}"; do
      case "$(health "$id")" in
        healthy) ;;
        # unhealthy counts as not yet: a replica can miss checks on a busy host and recover
        exited | dead)
          echo "$service: new replica ${id:0:12} is $(health "$id"); its last log lines:" >&2
          docker logs --tail 30 "$id" >&2 || true
          docker rm -f "${new[@]}" >/dev/null
          echo "$service: roll stopped; the old replicas keep serving" >&2
          exit 1 ;;
        *) pending=$((pending + 1)) ;;
      esac
    done
    [ "$pending" = 0 ] && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "$service: new replicas not healthy within ${ready_timeout}s; the last log lines:" >&2
      docker logs --tail 30 "${new[0]}" >&2 || true
      docker rm -f "${new[@]}" >/dev/null
      echo "$service: roll stopped; the old replicas keep serving" >&2
      exit 1
    fi
    sleep 1
  done
  if [ -n "$edge" ]; then
    for id in "${new[@]}"; do
      docker network connect --alias "$service" "$edge" "$id"
    done
  fi
  step "$service: new replicas healthy; draining and stopping the old ones (SIGTERM)"
  # docker stop waits for each container's own stop_grace_period (StopTimeout) before SIGKILL.
  docker stop "${old[@]}" >/dev/null
  for id in "${old[@]}"; do # how each one drained (the bot logs it; left_open > 0: closed by it)
    line=$(docker logs --tail 50 "$id" 2>&1 | grep -m1 'serve\.drained' || true)
    [ -z "$line" ] || echo "$service ${id:0:12}: $line"
  done
  docker rm "${old[@]}" >/dev/null
}

for service in $services; do
  roll "$service"
done

if [ -f "$env_file" ] && grep -q '^TAG=' "$env_file"; then
  sed -i "s/^TAG=.*/TAG=$tag/" "$env_file"
  step "TAG=$tag recorded in $env_file"
else
  step "no TAG= line in $env_file: set TAG=$tag there, or a later \`docker compose up -d\` reverts"
fi
step "done: $services on tag $tag"

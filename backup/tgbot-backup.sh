#!/usr/bin/env bash
# tgbot-backup: pg_dump / pg_restore for the bot's PostgreSQL, run from the postgres image so the
# client's major version matches the server's (Dockerfile.backup; compose service `backup`;
# k8s CronJob `tgbot-backup`). See docs/operations.md, "Backups and restore".
#
#   tgbot-backup backup              one dump now, verified, then retention, then the metrics file
#   tgbot-backup loop                backup every BACKUP_INTERVAL_SECONDS (compose's scheduler)
#   tgbot-backup prune [--dry-run]   apply retention only; --dry-run prints what it would delete
#   tgbot-backup verify FILE         read the whole dump; fails on a corrupt or truncated file
#   tgbot-backup restore FILE [--force]
#                                    restore into DATABASE_URL; refuses a database that already
#                                    has tables unless --force (which drops what the dump holds)
#
# Settings (environment):
#   DATABASE_URL or DATABASE_URL_FILE   postgresql://user:password@host:5432/db (the bot's URL)
#   BACKUP_DIR                          where dumps go (default /backups)
#   BACKUP_KEEP_DAILY / _WEEKLY / _MONTHLY   retention (default 7 / 4 / 6)
#   BACKUP_INTERVAL_SECONDS             `loop` period (default 86400)
#   BACKUP_METRICS_PATH                 node-exporter textfile to write after each success
#                                       (default $BACKUP_DIR/metrics/tgbot_backup.prom; "" = none)
#
# Files are named tgbot-YYYYmmddTHHMMSSZ.dump (UTC, pg_dump custom format, compressed).
# Exit codes: 0 ok, 1 failure, 2 bad usage or settings, 3 database unreachable,
#             4 corrupt or truncated dump, 5 target database not empty (use --force),
#             6 pg_dump older than the server (use the postgres image of the server's major).
set -o errexit -o nounset -o pipefail

BACKUP_DIR=${BACKUP_DIR:-/backups}
KEEP_DAILY=${BACKUP_KEEP_DAILY:-7}
KEEP_WEEKLY=${BACKUP_KEEP_WEEKLY:-4}
KEEP_MONTHLY=${BACKUP_KEEP_MONTHLY:-6}
INTERVAL=${BACKUP_INTERVAL_SECONDS:-86400}
METRICS_FILE=${BACKUP_METRICS_PATH-$BACKUP_DIR/metrics/tgbot_backup.prom}
PREFIX=tgbot-
SUFFIX=.dump

# One JSON line per event on stdout, the same shape as the services' logs (docs/operations.md).
log() {
  local level=$1 event=$2
  shift 2
  local extra="" kv key value
  for kv in "$@"; do
    key=${kv%%=*}
    value=${kv#*=}
    value=${value//\\/\\\\}
    value=${value//\"/\\\"}
    extra+=$(printf ',"%s":"%s"' "$key" "$value")
  done
  printf '{"time":"%s","level":"%s","service":"tgbot-backup","event":"%s"%s}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)" "$level" "$event" "$extra"
}

die() {
  local code=$1 event=$2
  shift 2
  log error "$event" "$@" >&2
  exit "$code"
}

database_url() {
  local url=${DATABASE_URL:-}
  if [ -z "$url" ] && [ -n "${DATABASE_URL_FILE:-}" ]; then
    [ -r "$DATABASE_URL_FILE" ] || die 2 backup.config_error reason="DATABASE_URL_FILE is unreadable"
    url=$(tr -d '\r\n' <"$DATABASE_URL_FILE")
  fi
  [ -n "$url" ] || die 2 backup.config_error reason="set DATABASE_URL or DATABASE_URL_FILE"
  # libpq knows postgresql:// and postgres://, not SQLAlchemy's postgresql+psycopg://.
  case $url in
    postgresql+*://*) url="postgresql://${url#*://}" ;;
    postgresql://* | postgres://*) ;;
    *) die 2 backup.config_error reason="DATABASE_URL must be a postgresql:// URL" ;;
  esac
  printf '%s' "$url"
}

# Sets `url` to DATABASE_URL without its password and exports the password as PGPASSWORD, which
# libpq reads: a process's arguments are visible to every user of the host (ps), its environment
# is not. The password is percent-decoded as libpq would.
use_database_url() {
  local full scheme rest authority userinfo user password
  full=$(database_url)
  scheme=${full%%://*}
  rest=${full#*://}
  authority=${rest%%/*}
  url=$full
  case $authority in
    *@*)
      userinfo=${authority%@*}
      case $userinfo in
        *:*)
          user=${userinfo%%:*}
          password=${userinfo#*:}
          password=${password//\\/\\\\}
          printf -v PGPASSWORD '%b' "${password//%/\\x}"
          export PGPASSWORD
          url="$scheme://$user@${authority##*@}${rest#"$authority"}"
          ;;
      esac
      ;;
  esac
}

check_int() {
  case $2 in '' | *[!0-9]*) die 2 backup.config_error reason="$1 must be a whole number" ;; esac
}

server_major() {
  local num
  if ! num=$(psql "$1" -X -Atq -v ON_ERROR_STOP=1 -c "SHOW server_version_num" 2>&1); then
    die 3 backup.database_unreachable reason="$(printf '%s' "$num" | head -n 1)"
  fi
  echo $((num / 10000))
}

client_major() {
  "$1" --version | sed -E 's/^[^0-9]*([0-9]+).*/\1/'
}

# pg_dump refuses a newer server anyway; say why in words an operator can act on.
check_versions() {
  local url=$1 server client
  server=$(server_major "$url")
  client=$(client_major pg_dump)
  if [ "$client" -lt "$server" ]; then
    die 6 backup.version_mismatch pg_dump="$client" server="$server" \
      reason="run the backup from postgres:$server (POSTGRES_IMAGE)"
  fi
}

verify() {
  local file=$1 err
  [ -f "$file" ] || die 2 backup.no_such_file file="$file"
  # Reading the archive to the end checks every data block: --list alone reads only the TOC,
  # which a truncated file still has.
  if ! err=$(pg_restore --file=/dev/null "$file" 2>&1); then
    die 4 backup.corrupt_dump file="$file" \
      reason="corrupt or truncated dump: $(printf '%s' "$err" | tr '\n' ' ' | cut -c1-300)"
  fi
}

write_metrics() {
  local finished=$1 size=$2 duration=$3
  [ -n "$METRICS_FILE" ] || return 0
  mkdir -p "$(dirname "$METRICS_FILE")"
  local tmp="$METRICS_FILE.$$.tmp"
  cat >"$tmp" <<EOF
# HELP tgbot_backup_last_success_timestamp_seconds When the last verified backup finished.
# TYPE tgbot_backup_last_success_timestamp_seconds gauge
tgbot_backup_last_success_timestamp_seconds $finished
# HELP tgbot_backup_last_size_bytes Size of the last verified backup.
# TYPE tgbot_backup_last_size_bytes gauge
tgbot_backup_last_size_bytes $size
# HELP tgbot_backup_last_duration_seconds How long the last verified backup took.
# TYPE tgbot_backup_last_duration_seconds gauge
tgbot_backup_last_duration_seconds $duration
EOF
  chmod 0644 "$tmp"
  mv -f "$tmp" "$METRICS_FILE"
}

cmd_backup() {
  local url started stamp final partial size finished
  use_database_url
  check_versions "$url"
  mkdir -p "$BACKUP_DIR"
  started=$(date -u +%s)
  stamp=$(date -u -d "@$started" +%Y%m%dT%H%M%SZ)
  final="$BACKUP_DIR/$PREFIX$stamp$SUFFIX"
  partial="$BACKUP_DIR/.$PREFIX$stamp$SUFFIX.partial"
  trap 'rm -f "$partial"' EXIT
  log info backup.started file="$final"
  if ! pg_dump --format=custom --compress=6 --no-owner --no-privileges \
    --file="$partial" --dbname="$url"; then
    die 1 backup.failed reason="pg_dump failed"
  fi
  verify "$partial"
  mv -f "$partial" "$final"
  trap - EXIT
  size=$(stat -c %s "$final")
  finished=$(date -u +%s)
  log info backup.done file="$final" bytes="$size" seconds="$((finished - started))"
  cmd_prune
  write_metrics "$finished" "$size" "$((finished - started))"
}

# The files to keep, newest first: for each of the last KEEP_DAILY days that has a backup its
# newest one, likewise for ISO weeks and calendar months (UTC); the union of the three.
# Buckets are counted among the backups that exist, not back from today: a month of failed
# runs never makes the last good dumps expire.
select_kept() {
  local names
  names=$(find "$BACKUP_DIR" -maxdepth 1 -type f -name "$PREFIX*$SUFFIX" -printf '%f\n' |
    grep -E "^$PREFIX[0-9]{8}T[0-9]{6}Z$SUFFIX\$" | sort -r || true)
  [ -n "$names" ] || return 0
  # "20250131T235959Z" -> "2025-01-31 23:59:59", then one date(1) call for every key.
  printf '%s\n' "$names" |
    sed -E "s/^$PREFIX([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z.*/\\1-\\2-\\3 \\4:\\5:\\6 UTC/" |
    date -u -f - '+%Y-%m-%d %G-W%V %Y-%m' |
    paste -d ' ' <(printf '%s\n' "$names") - |
    awk -v d="$KEEP_DAILY" -v w="$KEEP_WEEKLY" -v m="$KEEP_MONTHLY" '
      { keep = 0
        if ($2 != ld && nd < d) { nd++; ld = $2; keep = 1 }
        if ($3 != lw && nw < w) { nw++; lw = $3; keep = 1 }
        if ($4 != lm && nm < m) { nm++; lm = $4; keep = 1 }
        if (keep) print $1 }'
}

cmd_prune() {
  local dry=${1:-} kept name removed=0
  check_int BACKUP_KEEP_DAILY "$KEEP_DAILY"
  check_int BACKUP_KEEP_WEEKLY "$KEEP_WEEKLY"
  check_int BACKUP_KEEP_MONTHLY "$KEEP_MONTHLY"
  [ -d "$BACKUP_DIR" ] || die 2 backup.no_such_dir dir="$BACKUP_DIR"
  kept=$(select_kept)
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    if ! grep -qxF "$name" <<<"$kept"; then
      if [ "$dry" = "--dry-run" ]; then
        echo "$name"
      else
        rm -f "$BACKUP_DIR/$name"
        removed=$((removed + 1))
      fi
    fi
  done < <(find "$BACKUP_DIR" -maxdepth 1 -type f -name "$PREFIX*$SUFFIX" -printf '%f\n' |
    grep -E "^$PREFIX[0-9]{8}T[0-9]{6}Z$SUFFIX\$" | sort || true)
  if [ "$dry" != "--dry-run" ]; then
    log info backup.pruned removed="$removed" kept="$(grep -c . <<<"$kept" || true)"
  fi
}

cmd_restore() {
  local file="" force=no url tables
  while [ $# -gt 0 ]; do
    case $1 in
      --force) force=yes ;;
      -*) die 2 backup.usage reason="unknown option $1" ;;
      *) file=$1 ;;
    esac
    shift
  done
  [ -n "$file" ] || die 2 backup.usage reason="usage: tgbot-backup restore FILE [--force]"
  use_database_url
  verify "$file"
  server_major "$url" >/dev/null
  tables=$(psql "$url" -X -Atq -v ON_ERROR_STOP=1 -c "
    SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'")
  local clean=()
  if [ "$tables" -gt 0 ]; then
    [ "$force" = yes ] || die 5 backup.target_not_empty relations="$tables" \
      reason="the target database is not empty; restore into a new database or pass --force"
    clean=(--clean --if-exists)
  fi
  log info restore.started file="$file" force="$force"
  if ! pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
    "${clean[@]}" --dbname="$url" "$file"; then
    die 1 restore.failed file="$file" reason="pg_restore failed; the single transaction was rolled back"
  fi
  log info restore.done file="$file"
}

cmd_loop() {
  check_int BACKUP_INTERVAL_SECONDS "$INTERVAL"
  trap 'log info backup.loop_stopped; exit 0' TERM INT
  while true; do
    # Its own process, so errexit holds inside it (it would not in `cmd_backup || ...`).
    # A failed run is logged and retried at the next tick; the freshness alert catches a streak.
    "$0" backup || log error backup.run_failed exit_code="$?"
    sleep "$INTERVAL" &
    wait $!
  done
}

main() {
  local command=${1:-}
  [ $# -eq 0 ] || shift
  case $command in
    backup) cmd_backup ;;
    loop) cmd_loop ;;
    prune) cmd_prune "${1:-}" ;;
    verify)
      [ $# -eq 1 ] || die 2 backup.usage reason="usage: tgbot-backup verify FILE"
      verify "$1"
      log info backup.verified file="$1"
      ;;
    restore) cmd_restore "$@" ;;
    *)
      sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2
      exit 2
      ;;
  esac
}

main "$@"

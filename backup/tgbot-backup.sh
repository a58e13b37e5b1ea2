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
#   tgbot-backup restore --latest [--force]
#                                    fetch the newest backup from the off-site bucket, decrypt,
#                                    verify, then restore as above
#   tgbot-backup list                the backups in the off-site bucket, oldest first
#
# Settings (environment):
#   DATABASE_URL or DATABASE_URL_FILE   postgresql://user:password@host:5432/db (the bot's URL)
#   BACKUP_DIR                          where dumps go (default /backups)
#   BACKUP_KEEP_DAILY / _WEEKLY / _MONTHLY   retention (default 7 / 4 / 6)
#   BACKUP_INTERVAL_SECONDS             `loop` period (default 86400)
#   BACKUP_METRICS_PATH                 node-exporter textfile to write after each success
#                                       (default $BACKUP_DIR/metrics/tgbot_backup.prom; "" = none)
#   BACKUP_AGE_RECIPIENT                age public key (age1...): dumps are encrypted to it
#                                       (tgbot-*.dump.age); the private key never goes on the server
#   BACKUP_AGE_IDENTITY_FILE            the private key file, for restore only
#   BACKUP_S3_BUCKET                    off-site copy to this S3-compatible bucket when set, with the
#                                       same retention applied there
#   BACKUP_S3_ENDPOINT, BACKUP_S3_REGION, BACKUP_S3_PREFIX (default tgbot/)
#   BACKUP_S3_ACCESS_KEY_ID[_FILE], BACKUP_S3_SECRET_ACCESS_KEY[_FILE]   credentials
#
# Files are named tgbot-YYYYmmddTHHMMSSZ.dump[.age] (UTC, pg_dump custom format, compressed),
# mode 0600. Exit codes: 0 ok, 1 failure, 2 bad usage or settings, 3 database unreachable,
#             4 corrupt or truncated dump, 5 target database not empty (use --force),
#             6 pg_dump older than the server (use the postgres image of the server's major),
#             7 no backup in the bucket, 8 cannot decrypt (wrong key, or a truncated or
#             corrupt file), 9 the bucket is unreachable or refuses the request.
set -o errexit -o nounset -o pipefail

BACKUP_DIR=${BACKUP_DIR:-/backups}
KEEP_DAILY=${BACKUP_KEEP_DAILY:-7}
KEEP_WEEKLY=${BACKUP_KEEP_WEEKLY:-4}
KEEP_MONTHLY=${BACKUP_KEEP_MONTHLY:-6}
INTERVAL=${BACKUP_INTERVAL_SECONDS:-86400}
METRICS_FILE=${BACKUP_METRICS_PATH-$BACKUP_DIR/metrics/tgbot_backup.prom}
PREFIX=tgbot-
SUFFIX=.dump
NAME_RE="^$PREFIX[0-9]{8}T[0-9]{6}Z\\$SUFFIX(\\.age)?\$"
umask 077

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
  local finished=$1 size=$2 duration=$3 offsite=$4
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
# HELP tgbot_backup_last_offsite 1 when the last backup was also copied to the off-site bucket.
# TYPE tgbot_backup_last_offsite gauge
tgbot_backup_last_offsite $offsite
EOF
  chmod 0644 "$tmp"
  mv -f "$tmp" "$METRICS_FILE"
}

# --- off-site copy (rclone, S3 protocol) ---------------------------------------------------------

secret() { # secret NAME: $NAME, else the content of the file named by $NAME_FILE
  local name=$1 file_var="${1}_FILE" value
  value=${!name:-}
  if [ -z "$value" ] && [ -n "${!file_var:-}" ]; then
    [ -r "${!file_var}" ] || die 2 backup.config_error reason="$file_var is unreadable"
    value=$(tr -d '\r\n' <"${!file_var}")
  fi
  printf '%s' "$value"
}

offsite_enabled() { [ -n "${BACKUP_S3_BUCKET:-}" ]; }

# rclone with the bucket as remote "offsite:", configured through its environment only (no
# config file, no credentials on a command line). A failure is one readable line, exit 9.
offsite() {
  local out key id
  id=$(secret BACKUP_S3_ACCESS_KEY_ID)
  key=$(secret BACKUP_S3_SECRET_ACCESS_KEY)
  if [ -z "$id" ] || [ -z "$key" ]; then
    die 2 backup.config_error \
      reason="set BACKUP_S3_ACCESS_KEY_ID(_FILE) and BACKUP_S3_SECRET_ACCESS_KEY(_FILE)"
  fi
  if ! out=$(RCLONE_CONFIG=/dev/null RCLONE_CONFIG_OFFSITE_TYPE=s3 \
    RCLONE_CONFIG_OFFSITE_PROVIDER=Other RCLONE_CONFIG_OFFSITE_ENV_AUTH=false \
    RCLONE_CONFIG_OFFSITE_ENDPOINT="${BACKUP_S3_ENDPOINT:-}" \
    RCLONE_CONFIG_OFFSITE_REGION="${BACKUP_S3_REGION:-us-east-1}" \
    RCLONE_CONFIG_OFFSITE_FORCE_PATH_STYLE=true RCLONE_CONFIG_OFFSITE_NO_CHECK_BUCKET=true \
    RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID="$id" RCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY="$key" \
    rclone --low-level-retries 3 --retries 2 "$@" 2>&1); then
    die 9 backup.offsite_failed command="$1" \
      reason="$(printf '%s' "$out" | grep -v '^$' | tail -n 1 | cut -c1-300)"
  fi
  printf '%s' "$out"
}

offsite_dir() {
  local prefix=${BACKUP_S3_PREFIX-tgbot/}
  [ -z "$prefix" ] || prefix="${prefix%/}/"
  printf 'offsite:%s/%s' "$BACKUP_S3_BUCKET" "$prefix"
}

offsite_names() { # the backups in the bucket, oldest first
  local listing
  listing=$(offsite lsf --files-only "$(offsite_dir)")
  printf '%s\n' "$listing" | grep -E "$NAME_RE" | sort || true
}

# --- backup --------------------------------------------------------------------------------------

cmd_backup() {
  local url started stamp final partial size finished offsite_ok=0 err
  use_database_url
  check_versions "$url"
  mkdir -p "$BACKUP_DIR"
  started=$(date -u +%s)
  stamp=$(date -u -d "@$started" +%Y%m%dT%H%M%SZ)
  final="$BACKUP_DIR/$PREFIX$stamp$SUFFIX"
  partial="$BACKUP_DIR/.$PREFIX$stamp$SUFFIX.partial"
  trap 'rm -f "$partial" "$partial.age"' EXIT
  log info backup.started file="$final"
  if ! pg_dump --format=custom --compress=6 --no-owner --no-privileges \
    --file="$partial" --dbname="$url"; then
    die 1 backup.failed reason="pg_dump failed"
  fi
  verify "$partial"
  if [ -n "${BACKUP_AGE_RECIPIENT:-}" ]; then
    if ! err=$(age --encrypt --recipient "$BACKUP_AGE_RECIPIENT" --output "$partial.age" \
      "$partial" 2>&1); then
      die 2 backup.config_error reason="BACKUP_AGE_RECIPIENT: $(printf '%s' "$err" | head -n 1)"
    fi
    rm -f "$partial"
    partial="$partial.age"
    final="$final.age"
  fi
  chmod 0600 "$partial"
  mv -f "$partial" "$final"
  trap - EXIT
  size=$(stat -c %s "$final")
  finished=$(date -u +%s)
  log info backup.done file="$final" bytes="$size" seconds="$((finished - started))" \
    encrypted="$([ -n "${BACKUP_AGE_RECIPIENT:-}" ] && echo yes || echo no)"
  if offsite_enabled; then
    offsite copyto "$final" "$(offsite_dir)$(basename "$final")" >/dev/null
    log info backup.copied_offsite object="$(offsite_dir)$(basename "$final")"
    offsite_ok=1
  fi
  cmd_prune
  write_metrics "$finished" "$size" "$((finished - started))" "$offsite_ok"
}

# The names to keep of those on stdin, newest first: for each of the last KEEP_DAILY days that
# has a backup its newest one, likewise for ISO weeks and calendar months (UTC); the union of the
# three. Buckets are counted among the backups that exist, not back from today: a month of failed
# runs never makes the last good dumps expire.
select_kept() {
  local names
  names=$(grep -E "$NAME_RE" | sort -r || true)
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

local_names() {
  find "$BACKUP_DIR" -maxdepth 1 -type f -name "$PREFIX*" -printf '%f\n' |
    grep -E "$NAME_RE" | sort || true
}

# prune_list NAMES KEPT DRY DELETE...: runs DELETE NAME for every name not kept (prints it if DRY).
prune_list() {
  local names=$1 kept=$2 dry=$3 name count=0
  shift 3
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    grep -qxF "$name" <<<"$kept" && continue
    if [ "$dry" = "--dry-run" ]; then
      echo "$name"
    else
      "$@" "$name" >/dev/null
      count=$((count + 1))
    fi
  done <<<"$names"
  PRUNED=$count
}

remove_local() { rm -f "$BACKUP_DIR/$1"; }
remove_offsite() { offsite deletefile "$(offsite_dir)$1"; }

cmd_prune() {
  local dry=${1:-} names kept removed remote_removed=0
  check_int BACKUP_KEEP_DAILY "$KEEP_DAILY"
  check_int BACKUP_KEEP_WEEKLY "$KEEP_WEEKLY"
  check_int BACKUP_KEEP_MONTHLY "$KEEP_MONTHLY"
  [ -d "$BACKUP_DIR" ] || die 2 backup.no_such_dir dir="$BACKUP_DIR"
  names=$(local_names)
  kept=$(printf '%s\n' "$names" | select_kept)
  prune_list "$names" "$kept" "$dry" remove_local
  removed=$PRUNED
  # The same rule in the bucket, over the objects there (they outlive the server's disk).
  if offsite_enabled; then
    local remote remote_kept
    remote=$(offsite_names)
    remote_kept=$(printf '%s\n' "$remote" | select_kept)
    prune_list "$remote" "$remote_kept" "$dry" remove_offsite
    remote_removed=$PRUNED
  fi
  if [ "$dry" != "--dry-run" ]; then
    log info backup.pruned removed="$removed" kept="$(grep -c . <<<"$kept" || true)" \
      offsite_removed="$remote_removed"
  fi
}

# --- restore -------------------------------------------------------------------------------------

# decrypt FILE.age into the private work directory; prints the plain file's path. A wrong key and
# a truncated or altered file both stop here (age authenticates every chunk): nothing restored.
decrypt() {
  local file=$1 identity=${BACKUP_AGE_IDENTITY_FILE:-} out err
  [ -n "$identity" ] || die 2 backup.config_error \
    reason="$(basename "$file") is encrypted: set BACKUP_AGE_IDENTITY_FILE to the age private key file"
  [ -r "$identity" ] || die 2 backup.config_error reason="BACKUP_AGE_IDENTITY_FILE is unreadable"
  out="$WORK/$(basename "${file%.age}")"
  if ! err=$(age --decrypt --identity "$identity" --output "$out" "$file" 2>&1); then
    rm -f "$out"
    die 8 backup.decrypt_failed file="$(basename "$file")" \
      reason="cannot decrypt (wrong key, or a truncated or corrupt file): $(printf '%s' "$err" | tr '\n' ' ' | cut -c1-200); nothing restored"
  fi
  printf '%s' "$out"
}

cmd_restore() {
  local file="" force=no latest=no url tables name
  while [ $# -gt 0 ]; do
    case $1 in
      --force) force=yes ;;
      --latest) latest=yes ;;
      -*) die 2 backup.usage reason="unknown option $1" ;;
      *) file=$1 ;;
    esac
    shift
  done
  if [ "$latest" = yes ]; then
    [ -z "$file" ] || die 2 backup.usage reason="give a FILE or --latest, not both"
    offsite_enabled || die 2 backup.config_error reason="--latest needs BACKUP_S3_BUCKET"
  else
    [ -n "$file" ] || die 2 backup.usage reason="usage: tgbot-backup restore FILE|--latest [--force]"
    [ -f "$file" ] || die 2 backup.no_such_file file="$file"
  fi
  use_database_url
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/tgbot-restore.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  if [ "$latest" = yes ]; then
    name=$(offsite_names | tail -n 1)
    [ -n "$name" ] || die 7 backup.no_backups \
      reason="no backup in s3://${BACKUP_S3_BUCKET}/${BACKUP_S3_PREFIX-tgbot/}; nothing restored"
    log info restore.fetching object="$(offsite_dir)$name"
    offsite copyto "$(offsite_dir)$name" "$WORK/$name" >/dev/null
    file="$WORK/$name"
  fi
  case $file in *.age) file=$(decrypt "$file") ;; esac
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
  log info restore.started file="$(basename "$file")" force="$force"
  if ! pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
    "${clean[@]}" --dbname="$url" "$file"; then
    die 1 restore.failed file="$file" reason="pg_restore failed; the single transaction was rolled back"
  fi
  log info restore.done file="$(basename "$file")"
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
    list)
      offsite_enabled || die 2 backup.config_error reason="list needs BACKUP_S3_BUCKET"
      offsite_names
      ;;
    *)
      sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//' >&2
      exit 2
      ;;
  esac
}

main "$@"

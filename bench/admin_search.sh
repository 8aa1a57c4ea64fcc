#!/usr/bin/env bash
# Operator search at the scale DESIGN.md names: one command. Builds the release binary,
# creates a database by starting it once (migrations), seeds 100k tenants and 1M accounts
# with memberships in plain SQL (Debian's sqlite3; the triggers of migration 2 index them
# as they go in), starts it again, logs an operator in and times `?q=` on
# /v1/admin/users, /v1/admin/tenants and the operator pages: the median of RUNS requests
# per row, one table.
#
#   bench/admin_search.sh                                   # this build (about 2 minutes after the build, 3 with a baseline)
#   BENCH_BASELINE=/tmp/keystead-main bench/admin_search.sh # and another build, on the same data, side by side
#   BENCH_BIN=/tmp/keystead-old bench/admin_search.sh       # measure another build, skip cargo
#   TENANTS=10000 ACCOUNTS=100000 RUNS=5 bench/admin_search.sh
#
# With a baseline, the baseline creates the database and it is seeded before the build
# measured ever opens it, as an upgrade would: that build's first start applies its
# migrations to a million accounts (the table shows how long it took), then both are
# measured on the same file. A baseline from before migration 2 never reads its indexes.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

TENANTS=${TENANTS:-100000}
ACCOUNTS=${ACCOUNTS:-1000000}
RUNS=${RUNS:-7}
BASELINE=${BENCH_BASELINE:-}

# shellcheck source=bench/lib.sh
source bench/lib.sh
need sqlite3 curl
bench_binary
EMAIL="ops@bench.test"
PASSWORD="bench correct horse battery staple"

# --- server ------------------------------------------------------------------------
TMP=$(mktemp -d /tmp/keystead-search-bench.XXXXXX)
DB="$TMP/bench.db"
SERVER_PID=""
stop() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap 'stop; rm -rf "$TMP"' EXIT

# Starts binary $1 on $DB at a free loopback port (BASE); a first start may migrate a
# million rows, hence the long wait.
start() {
  free_port
  RUST_LOG=warn "$1" serve --db "$DB" --bind "127.0.0.1:$PORT" >"$TMP/server.log" 2>&1 &
  SERVER_PID=$!
  await_server 300 "$TMP/server.log"
}

# --- seed ----------------------------------------------------------------------------
log "creating the database (migrations of ${BASELINE:-$BIN})"
start "${BASELINE:-$BIN}"
stop

# Accounts: user0000001@example.test… (so "example" is in every one, and user00 only in
# the oldest tenth), named "<first name> Smith<i mod 7919>" (each surname about 126
# times); one in 100 disabled, one in 200 deleted; created one a second, oldest first.
# Each is a member of one tenant (ten a tenant), the first of each tenant its owner.
# Tenants: tenant-000001…, named "<adjective> <noun> <i>"; one in 50 suspended.
log "seeding $TENANTS tenants and $ACCOUNTS accounts with memberships (sqlite3 $(sqlite3 --version | cut -d' ' -f1))"
# No ANALYZE: keystead never runs it, so the plans measured are those a real database gets.
SEED_START=$(date +%s.%N)
sqlite3 "$DB" <<SQL
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $TENANTS)
INSERT INTO tenants (id, slug, name, status, created_at, updated_at)
SELECT printf('00000000-0000-4000-8000-%012x', i), printf('tenant-%06d', i),
       printf('%s %s %d',
              CASE i % 7 WHEN 0 THEN 'Blue' WHEN 1 THEN 'Quiet' WHEN 2 THEN 'Rapid' WHEN 3 THEN 'Golden'
                         WHEN 4 THEN 'Northern' WHEN 5 THEN 'Bright' ELSE 'Silver' END,
              CASE i % 11 WHEN 0 THEN 'Harbor' WHEN 1 THEN 'Labs' WHEN 2 THEN 'Works' WHEN 3 THEN 'Systems'
                          WHEN 4 THEN 'Studio' WHEN 5 THEN 'Partners' WHEN 6 THEN 'Foods' WHEN 7 THEN 'Health'
                          WHEN 8 THEN 'Logistics' WHEN 9 THEN 'Media' ELSE 'Capital' END, i),
       CASE WHEN i % 50 = 0 THEN 'suspended' ELSE 'active' END,
       1600000000 + i * 10, 1600000000 + i * 10
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ACCOUNTS)
INSERT INTO portal_users (id, email, name, status, created_at, updated_at)
SELECT printf('00000000-0000-4000-9000-%012x', i), printf('user%07d@example.test', i),
       printf('%s Smith%04d',
              CASE i % 5 WHEN 0 THEN 'Ann' WHEN 1 THEN 'Bob' WHEN 2 THEN 'Carla' WHEN 3 THEN 'Dmitri' ELSE 'Eve' END,
              i % 7919),
       CASE WHEN i % 100 = 0 THEN 'disabled' WHEN i % 200 = 1 THEN 'deleted' ELSE 'active' END,
       1600000000 + i, 1600000000 + i
FROM n;
INSERT INTO memberships (tenant_id, user_id, role, status, created_at, updated_at)
SELECT printf('00000000-0000-4000-8000-%012x', (u.rowid - 1) % $TENANTS + 1), u.id,
       CASE WHEN u.rowid <= $TENANTS THEN 'owner' ELSE 'member' END, 'active', u.created_at, u.created_at
FROM portal_users u;
COMMIT;
SQL
secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
SEED_SECS=$(secs_since "$SEED_START")
log "seeded in ${SEED_SECS}s; database $(du -m "$DB" | cut -f1) MiB"

# The first start of the build measured: with a baseline, it migrates the seeded data.
FIRST_START=$(date +%s.%N)
start "$BIN"
FIRST_START_SECS=$(secs_since "$FIRST_START")
stop
echo "$PASSWORD" | RUST_LOG=warn "$BIN" admin create --db "$DB" --email "$EMAIL" >/dev/null

# --- measure ---------------------------------------------------------------------------
# Each row: a label and the path asked.
RARE_USER=user$(printf '%07d' $((ACCOUNTS * 4 / 10 + 2424)))@
RARE_TENANT=tenant-$(printf '%06d' $((TENANTS * 4 / 10 + 24)))
A_TENANT=$(printf '00000000-0000-4000-8000-%012x' $((TENANTS / 2 + 42)))
CASES=(
  "users: miss|/v1/admin/users?q=nomatch-zq"
  "users: rare (1 match)|/v1/admin/users?q=$RARE_USER"
  "users: ~2,500 matches (index)|/v1/admin/users?q=ann+smith00"
  "users: ~12,700 matches (walk)|/v1/admin/users?q=smith00"
  "users: common (every row)|/v1/admin/users?q=example"
  "users: common, all old (user00)|/v1/admin/users?q=user00"
  "users: 2 chars, common|/v1/admin/users?q=sm"
  "users: 2 chars, miss|/v1/admin/users?q=zq"
  "users: status=active, miss|/v1/admin/users?status=active&q=nomatch-zq"
  "users: status=disabled, ~126 matches|/v1/admin/users?status=disabled&q=smith0042"
  "users: one tenant's members|/v1/admin/users?tenant_id=$A_TENANT"
  "users: one tenant's, status=active|/v1/admin/users?tenant_id=$A_TENANT&status=active"
  "tenants: miss|/v1/admin/tenants?q=nomatch-zq"
  "tenants: rare (1 match)|/v1/admin/tenants?q=$RARE_TENANT"
  "tenants: common (every row)|/v1/admin/tenants?q=tenant"
  "tenants: 2 chars, miss|/v1/admin/tenants?q=zq"
  "tenants: status=active, miss|/v1/admin/tenants?status=active&q=nomatch-zq"
  "tenants: suspended, ~1,000 matches|/v1/admin/tenants?status=suspended&q=harbor+1"
  "page /admin/users: miss|/admin/users?q=nomatch-zq"
  "page /admin/tenants: miss|/admin/tenants?q=nomatch-zq"
)

# What marks one row of each list in its answer, to count the first page's rows.
row_pattern() {
  case $1 in
    /v1/admin/users*) echo '"email":"[^"]*"' ;;
    /v1/admin/tenants*) echo '"slug":"[^"]*"' ;;
    /admin/users*) echo 'href="/admin/users/[0-9a-f-]{36}"' ;;
    /admin/tenants*) echo 'href="/admin/tenants/[0-9a-f-]{36}"' ;;
  esac
}

# Times every case against binary $1: the median of RUNS requests after one unmeasured
# request (which also checks the answer is a 200 and counts its rows).
measure() {
  start "$1"
  local login token
  login=$(curl -fsS -H 'Content-Type: application/json' -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" \
    "$BASE/v1/admin/auth/login")
  token=$(grep -o '"session_token":"[^"]*"' <<<"$login" | cut -d'"' -f4)
  [[ -n $token ]] || { log "operator login failed: $login"; exit 1; }
  local row label path auth status count
  for row in "${CASES[@]}"; do
    IFS='|' read -r label path <<<"$row"
    # The API takes the bearer token; the pages take the same session as their cookie.
    if [[ $path == /admin/* ]]; then auth=(-b "ks_admin=$token"); else auth=(-H "Authorization: Bearer $token"); fi
    status=$(curl -sS -o "$TMP/body" -w '%{http_code}' "${auth[@]}" "$BASE$path")
    [[ $status == 200 ]] || { log "$path answered $status: $(head -c 300 "$TMP/body")"; exit 1; }
    count=$({ grep -oE "$(row_pattern "$path")" "$TMP/body" || true; } | sort -u | wc -l)
    for _ in $(seq 1 "$RUNS"); do
      curl -sS -o /dev/null -w '%{time_total}\n' "${auth[@]}" "$BASE$path"
    done | sort -n | awk -v n="$RUNS" -v l="$label" -v c="$count" \
      '{ t[NR] = $1 } END { printf "%s|%d|%.1f\n", l, c, t[int((n + 1) / 2)] * 1000 }'
  done
  stop
}

log "measuring $BIN"
measure "$BIN" >"$TMP/new"
if [[ -n $BASELINE ]]; then
  log "measuring $BASELINE on the same database"
  measure "$BASELINE" >"$TMP/old"
fi

# --- report --------------------------------------------------------------------------
echo
echo "Keystead operator search: $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), median of $RUNS requests"
echo "seeded: $TENANTS tenants, $ACCOUNTS accounts, $ACCOUNTS memberships in ${SEED_SECS}s;" \
  "database now $(du -m "$DB" | cut -f1) MiB"
echo "binary: $BIN${BASELINE:+ (baseline: $BASELINE)}"
echo "first start of the binary on the seeded database: ${FIRST_START_SECS}s${BASELINE:+ (its migrations included)}"
echo
if [[ -n $BASELINE ]]; then
  printf '%-36s %6s %12s %12s %8s\n' request items 'baseline ms' 'this ms' speed-up
  paste -d'|' "$TMP/old" "$TMP/new" | awk -F'|' '{
    r = $3 / ($6 > 0 ? $6 : 0.1)
    printf "%-36s %6s %12.1f %12.1f %8s%s\n", $1, $5, $3, $6, sprintf(r >= 10 ? "%.0fx" : "%.1fx", r),
      ($2 == $5 ? "" : "  (baseline found " $2 ")") }'
else
  printf '%-36s %6s %10s\n' request items ms
  awk -F'|' '{ printf "%-36s %6s %10.1f\n", $1, $2, $3 }' "$TMP/new"
fi
echo
echo "items: rows on the first page (at most 50); the rare terms: $RARE_USER, $RARE_TENANT"

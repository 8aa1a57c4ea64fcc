#!/usr/bin/env bash
# The Keystead benchmark: one command. Builds the release binary, starts it on a free
# loopback port over a fresh temporary database, seeds a tenant through the API, loads
# it with wrk and prints one table.
#
#   bench/run.sh                    # the whole run (about 3.5 minutes after the build)
#   DURATION=5 bench/run.sh         # shorter phases
#   KEYSTEAD_WORKERS=8 bench/run.sh # any KEYSTEAD_* variable reaches the server
#   BENCH_BIN=/tmp/keystead-old bench/run.sh  # measure another build, skip cargo
#   PHASES=read bench/run.sh        # only /healthz, verify and /v1/me (no login phases)
#   ROUNDS=11 PAIR_SECS=3 bench/run.sh  # more or longer interleaved rounds for the ratios
#   ONE_CORE=1 bench/run.sh         # the server on core 0 (taskset), wrk and curl on core 1
#   MIXED=1 bench/run.sh            # the read phases once more beside a background writer:
#                                   # 10 logins/s, 2 sign-ups/s, 2 key creations + revocations/s
#   SEEDED=1 bench/run.sh           # first `keystead bench-seed` (100k tenants, 1M accounts,
#                                   # 1M keys, 1M sessions, 5M audit events; SEED_* sizes),
#                                   # and the read phases draw on its 100,000 sampled keys
#                                   # and sessions
#   SEEDED=both bench/run.sh        # the empty run, then the seeded one, and each route's
#                                   # seeded p99 against its empty p99 (target 1.5x)
#
# Logging: the server runs with RUST_LOG=warn, so its one-line-per-request info log is
# not part of what is measured.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${DURATION:-10}   # seconds per measured phase
WARMUP=${WARMUP:-2}        # seconds of unmeasured load before each phase
THREADS=2
CONNS=32
FLOOD_CONNS=256
KEYS=${KEYS:-1000}         # extra API keys seeded (on top of the sign-up key)
SESSIONS=${SESSIONS:-256}  # extra sessions seeded by logging in (on top of the sign-up one)
PASSWORD="bench correct horse battery staple"
EMAIL="owner@bench.test"

# shellcheck source=bench/lib.sh
source bench/lib.sh

# --- tools -------------------------------------------------------------------------
need wrk curl
bench_binary

# SEEDED=both: this script twice on one binary, the second judging against the first.
if [[ ${SEEDED:-0} == both ]]; then
  EMPTY_ROWS=$(mktemp /tmp/keystead-bench-rows.XXXXXX)
  SEEDED=0 BENCH_BIN="$BIN" ROWS_OUT="$EMPTY_ROWS" "$0"
  SEEDED=1 BENCH_BIN="$BIN" COMPARE_ROWS="$EMPTY_ROWS" "$0"
  rm -f "$EMPTY_ROWS"
  exit
fi

# ONE_CORE=1: what a Raspberry Pi core serves, with the load generator kept off it.
SERVER_PIN=()
LOAD_PIN=()
if [[ ${ONE_CORE:-0} == 1 ]]; then
  ((CPUS = $(nproc), CPUS >= 2)) || { log "ONE_CORE=1 needs two cores"; exit 1; }
  SERVER_PIN=(taskset -c 0)
  LOAD_PIN=(taskset -c 1)
fi
# wrk (and the mixed writer's curl) on the load core.
load() { ${LOAD_PIN[@]+"${LOAD_PIN[@]}"} "$@"; }

# --- server ------------------------------------------------------------------------
TMP=$(mktemp -d /tmp/keystead-bench.XXXXXX)
SERVER_PID=""
SAMPLER_PID=""
cleanup() {
  [[ -n $SAMPLER_PID ]] && kill "$SAMPLER_PID" 2>/dev/null || true
  if [[ -n ${WRITER_PID:-} ]]; then kill "$WRITER_PID" 2>/dev/null || true; fi
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

if [[ ${SEEDED:-0} == 1 ]]; then
  log "seeding with keystead bench-seed (minutes)"
  "$BIN" bench-seed --db "$TMP/bench.db" --out "$TMP/seed" \
    --tenants "${SEED_TENANTS:-100000}" --accounts "${SEED_ACCOUNTS:-1000000}" \
    --keys "${SEED_KEYS:-1000000}" --sessions "${SEED_SESSIONS:-1000000}" \
    --audit-events "${SEED_AUDIT:-5000000}" --sample "${SEED_SAMPLE:-100000}" >&2
fi
# No file yet without SEEDED (the server creates it): 0 bytes, not a failed pipe.
DB_BYTES=$( (cat "$TMP"/bench.db* 2>/dev/null || true) | wc -c)
# An operator for the operator routes (no second factor: KEYSTEAD_OPERATOR_MFA below).
OPS_EMAIL="ops@bench.test"
echo "$PASSWORD" | RUST_LOG=warn "$BIN" admin create --db "$TMP/bench.db" --email "$OPS_EMAIL" >/dev/null

free_port
START_NS=$(date +%s%N)
RUST_LOG=warn KEYSTEAD_OPERATOR_MFA=optional ${SERVER_PIN[@]+"${SERVER_PIN[@]}"} "$BIN" serve --db "$TMP/bench.db" --bind "127.0.0.1:$PORT" \
  --trust-proxy >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
# Start-up to the first 200, polled every 2 ms for 30 s at most.
for _ in $(seq 1 15000); do
  curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.002
done
await_server 10 "$TMP/server.log"
STARTUP_MS=$(awk -v a="$START_NS" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
sleep 1
IDLE_RSS_KIB=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")

# --- seed ----------------------------------------------------------------------------
# A string field of a JSON body on stdin (the values seeded here hold no quotes).
field() { grep -o "\"$1\":\"[^\"]*\"" | head -n1 | cut -d'"' -f4; }

log "seeding: sign-up, $KEYS API keys, $SESSIONS sessions"
SIGNUP=$(curl -fsS -H 'Content-Type: application/json' \
  -d "{\"tenant_name\":\"Bench Co\",\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\",\"name\":\"Bench Owner\"}" \
  "$BASE/v1/auth/signup")
TOKEN=$(field session_token <<<"$SIGNUP")
TENANT_ID=$(field tenant_id <<<"$SIGNUP")
field key <<<"$SIGNUP" >"$TMP/keys"
echo "$TOKEN" >"$TMP/tokens"

# Keys: one curl, one keep-alive connection, $KEYS requests; one JSON body per line out.
urls=()
for _ in $(seq 1 "$KEYS"); do urls+=("$BASE/v1/keys"); done
curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -w '\n' \
  -d '{"name":"bench key","scopes":["read","write"],"meta":{"env":"bench"}}' "${urls[@]}" |
  grep -o '"key":"[^"]*"' | cut -d'"' -f4 >>"$TMP/keys"

# Sessions: logins in parallel batches of 16, each batch from its own client address
# (the per-IP login limit allows a burst of 30).
batch=16
urls=()
for _ in $(seq 1 "$batch"); do urls+=("$BASE/v1/auth/login"); done
pids=()
for b in $(seq 1 $(((SESSIONS + batch - 1) / batch))); do
  curl -fsS -H 'Content-Type: application/json' -H "X-Forwarded-For: 192.0.2.$b" -w '\n' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "${urls[@]}" |
    grep -o '"session_token":"[^"]*"' | cut -d'"' -f4 >"$TMP/tokens.$b" &
  pids+=($!)
done
wait "${pids[@]}"
cat "$TMP"/tokens.* >>"$TMP/tokens"
if [[ ${SEEDED:-0} == 1 ]]; then
  cat "$TMP/seed/keys" >>"$TMP/keys"
  cat "$TMP/seed/tokens" >>"$TMP/tokens"
fi
log "seeded $(wc -l <"$TMP/keys") keys and $(wc -l <"$TMP/tokens") sessions"

# Every phase must measure successes: check one of each before loading.
check() { grep -q "$2" <<<"$1" || { log "unexpected answer: $1"; exit 1; }; }
check "$(curl -sS -H 'Content-Type: application/json' -d "{\"key\":\"$(tail -n1 "$TMP/keys")\"}" \
  "$BASE/v1/verify/key")" '"valid":true'
check "$(curl -sS -H 'Content-Type: application/json' -d "{\"token\":\"$(tail -n1 "$TMP/tokens")\"}" \
  "$BASE/v1/verify/session")" '"valid":true'
check "$(curl -sS -H "Authorization: Bearer $(tail -n1 "$TMP/tokens")" "$BASE/v1/me")" '"memberships"'

# --- measure -------------------------------------------------------------------------
# Peak RSS of a phase: VmRSS sampled every 100 ms (max kept), and the kernel's VmHWM
# after resetting it at the start of the phase (when /proc/<pid>/clear_refs allows).
rss_kib() { awk "/^$1:/ {print \$2}" "/proc/$SERVER_PID/status"; }
sample_rss() {
  local max=0 threads=0 v t
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    v=$(rss_kib VmRSS) || break
    t=$(rss_kib Threads) || break
    ((t > threads)) && threads=$t && echo "$threads" >"$TMP/threads"
    ((v > max)) && max=$v && echo "$max" >"$TMP/rss"
    sleep 0.1
  done
}

# CPU time in clock ticks: the whole machine's busy time, and the server's own. Other
# work on a shared machine shows as host CPU well above server + wrk.
host_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
host_total() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print t }' /proc/stat; }
# Steal: time the hypervisor gave this VM's CPUs to someone else. A thread that was
# ready to run waited all that time, so a phase with steal has a tail (p99) that says
# more about the host than about the server.
host_steal() { awk '/^cpu / { print $9 }' /proc/stat; }
server_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }

declare -a ROWS=()
declare -a HEALTHZ=()
# phase LABEL CONNS WARMUP_SECS TIMEOUT SCRIPT [SCRIPT ARGS...]
phase() {
  local label=$1 conns=$2 warmup=$3 timeout=$4 script=$5
  shift 5
  local threads=$((conns < THREADS ? conns : THREADS))
  log "phase: $label ($conns connections, ${warmup}s warm-up + ${DURATION}s)"
  if ((warmup > 0)); then
    load wrk -t"$threads" -c"$conns" -d"${warmup}s" --timeout "$timeout" -s "$script" "$BASE" -- "$@" >/dev/null
  fi
  echo 0 >"$TMP/rss"
  echo 0 >"$TMP/threads"
  local hwm_ok=0
  echo 5 2>/dev/null >"/proc/$SERVER_PID/clear_refs" && hwm_ok=1
  sample_rss &
  SAMPLER_PID=$!
  local busy0 total0 srv0 steal0
  busy0=$(host_busy) total0=$(host_total) srv0=$(server_ticks) steal0=$(host_steal)
  local out
  out=$(load wrk -t"$threads" -c"$conns" -d"${DURATION}s" --timeout "$timeout" -s "$script" "$BASE" -- "$@")
  local busy1 total1 srv1 steal1
  busy1=$(host_busy) total1=$(host_total) srv1=$(server_ticks) steal1=$(host_steal)
  # Cores busy on average: the server, and the whole machine.
  local srv_cpu host_cpu steal
  srv_cpu=$(awk -v a="$srv0" -v b="$srv1" -v t0="$total0" -v t1="$total1" -v n="$(nproc)" \
    'BEGIN { printf "%.2f", (b - a) / ((t1 - t0) / n) }')
  host_cpu=$(awk -v a="$busy0" -v b="$busy1" -v t0="$total0" -v t1="$total1" -v n="$(nproc)" \
    'BEGIN { printf "%.2f", (b - a) / ((t1 - t0) / n) }')
  steal=$(awk -v a="$steal0" -v b="$steal1" -v t0="$total0" -v t1="$total1" \
    'BEGIN { printf "%.1f", 100 * (b - a) / (t1 - t0) }')
  kill "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" 2>/dev/null || true
  SAMPLER_PID=""
  local hwm="-" rss
  ((hwm_ok)) && hwm=$(rss_kib VmHWM)
  rss=$(cat "$TMP/rss")
  local threads
  threads=$(cat "$TMP/threads")
  local line
  line=$(grep '^BENCH ' <<<"$out") || { log "$out"; exit 1; }
  # shellcheck disable=SC2086
  eval "$(sed 's/^BENCH //; s/\([a-z0-9_]*\)=/local \1=/g' <<<"$line")"
  # Throughput counts answers that were 2xx (a 429/503 is not a login).
  local rps
  rps=$(awk -v r="$requests" -v n="$non2xx" -v u="$usecs" 'BEGIN { printf "%.1f", (r - n) / (u / 1e6) }')
  [[ $label == /healthz* ]] && HEALTHZ+=("$rps")
  ROWS+=("$label|$conns|$rps|$p50_us|$p99_us|$rss|$hwm|$srv_cpu|$host_cpu|$steal|$threads|$non2xx|$timeouts|$sockerr")
  LAST_RPS=$rps
  LAST_P50=$p50_us
}

# Warm-ups before the read phases also take the first-use writes of last_used_at /
# last_seen_at (at most one a minute per key or session). Login phases need no warm-up,
# and one would leave aborted logins queued in the server for the measured run.
T=10s
phase "/healthz" "$CONNS" "$WARMUP" "$T" bench/healthz.lua
phase "POST /v1/verify/key" "$CONNS" "$WARMUP" "$T" bench/verify_key.lua "$TMP/keys"
phase "POST /v1/verify/session" "$CONNS" "$WARMUP" "$T" bench/verify_session.lua "$TMP/tokens"
phase "GET /v1/me" "$CONNS" "$WARMUP" "$T" bench/me.lua "$TMP/tokens"
# /healthz again: ratios are taken against the mean of both runs, which brackets the others.
phase "/healthz (again)" "$CONNS" "$WARMUP" "$T" bench/healthz.lua
HEALTHZ_RPS=$(awk -v a="${HEALTHZ[0]}" -v b="${HEALTHZ[1]}" 'BEGIN { printf "%.1f", (a + b) / 2 }')

# MIXED=1: the read phases again while a writer signs in 10 users a second, signs up 2
# tenants a second and creates and revokes 2 keys a second (each request its own curl,
# on the load core, every client address its own so that no limit answers 429).
WRITER_PID=""
mixed_writer() {
  local tick=0 key_id
  while :; do
    tick=$((tick + 1))
    load curl -fsS -o /dev/null -H 'Content-Type: application/json' \
      -H "X-Forwarded-For: 198.51.$((tick / 250 % 250)).$((tick % 250 + 1))" \
      -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$BASE/v1/auth/login" &
    if ((tick % 5 == 0)); then
      load curl -fsS -o /dev/null -H 'Content-Type: application/json' \
        -H "X-Forwarded-For: 203.0.$((tick / 250 % 250)).$((tick % 250 + 1))" \
        -d "{\"tenant_name\":\"Mixed $tick\",\"email\":\"mixed$tick-$$@bench.test\",\"password\":\"$PASSWORD\"}" \
        "$BASE/v1/auth/signup" &
      (
        key_id=$(load curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
          -d '{"name":"mixed key"}' "$BASE/v1/keys" | field id)
        [[ -n $key_id ]] && load curl -fsS -o /dev/null -X DELETE -H "Authorization: Bearer $TOKEN" \
          "$BASE/v1/keys/$key_id"
      ) &
    fi
    sleep 0.1
  done
}
if [[ ${MIXED:-0} == 1 ]]; then
  log "mixed: the read phases beside a background writer"
  mixed_writer 2>/dev/null &
  WRITER_PID=$!
  phase "POST /v1/verify/key, mixed" "$CONNS" "$WARMUP" "$T" bench/verify_key.lua "$TMP/keys"
  phase "POST /v1/verify/session, mixed" "$CONNS" "$WARMUP" "$T" bench/verify_session.lua "$TMP/tokens"
  phase "GET /v1/me, mixed" "$CONNS" "$WARMUP" "$T" bench/me.lua "$TMP/tokens"
  kill "$WRITER_PID" 2>/dev/null || true
  wait "$WRITER_PID" 2>/dev/null || true
  WRITER_PID=""
fi

if [[ ${PHASES:-all} != read ]]; then
  # One connection, one request at a time. A login's time bounds one argon2 hash from
  # above (it also holds the HTTP round trip and a committed write: one fsync under
  # synchronous=FULL). A key creation has the write and no hash; the difference of the
  # medians estimates the hash itself.
  phase "POST /v1/keys, 1 at a time" 1 0 "$T" bench/create_key.lua "$TOKEN"
  WRITE_P50=$LAST_P50
  phase "login, 1 at a time" 1 0 "$T" bench/login.lua "$EMAIL" "$PASSWORD"
  LOGIN1_MS=$(awk -v r="$LAST_RPS" 'BEGIN { printf "%.2f", 1000 / r }')
  HASH_MS=$(awk -v l="$LAST_P50" -v w="$WRITE_P50" 'BEGIN { printf "%.2f", (l - w) / 1000 }')
  phase "POST /v1/auth/login" "$CONNS" 0 "$T" bench/login.lua "$EMAIL" "$PASSWORD"
  LOGIN_RPS=$LAST_RPS
  phase "login flood" "$FLOOD_CONNS" 0 30s bench/login.lua "$EMAIL" "$PASSWORD"
  # The first second after the flood stops: logins whose clients wrk has dropped must
  # not be hashed any more (issue 13: back at the quiet rate within a second).
  QUIET_DURATION=$DURATION
  DURATION=1
  phase "GET /v1/me, 1 s after the flood" "$CONNS" 0 "$T" bench/me.lua "$TMP/tokens"
  DURATION=$QUIET_DURATION
fi

# Operator routes: the first page of tenants and one DEEP_PAGES pages in (followed by
# their cursors), a tenant's audit log, and the users page searching every account.
if [[ ${PHASES:-all} != read ]]; then
  OPS_TOKEN=$(curl -fsS -H 'Content-Type: application/json' \
    -d "{\"email\":\"$OPS_EMAIL\",\"password\":\"$PASSWORD\"}" "$BASE/v1/admin/auth/login" | field session_token)
  [[ -n $OPS_TOKEN ]] || { log "operator login failed"; exit 1; }
  CURSOR=""
  for _ in $(seq 1 "${DEEP_PAGES:-100}"); do
    next=$(curl -fsS -H "Authorization: Bearer $OPS_TOKEN" "$BASE/v1/admin/tenants?limit=200${CURSOR:+&cursor=$CURSOR}" |
      grep -o '"next_cursor":"[^"]*"' | cut -d'"' -f4) || true
    [[ -n $next ]] || break
    CURSOR=$next
  done
  phase "GET /v1/admin/tenants" "$CONNS" "$WARMUP" "$T" bench/admin_get.lua "$OPS_TOKEN" "/v1/admin/tenants"
  phase "GET /v1/admin/tenants, deep" "$CONNS" "$WARMUP" "$T" bench/admin_get.lua "$OPS_TOKEN" \
    "/v1/admin/tenants${CURSOR:+?cursor=$CURSOR}"
  phase "GET /v1/admin/audit?tenant_id=" "$CONNS" "$WARMUP" "$T" bench/admin_get.lua "$OPS_TOKEN" \
    "/v1/admin/audit?tenant_id=$TENANT_ID"
  phase "/admin/users?q=bench" "$CONNS" "$WARMUP" "$T" bench/admin_get.lua "$OPS_TOKEN" "/admin/users?q=bench"
fi

# Interleaved rounds: the throughput of a shared machine drifts by tens of percent within
# a minute (two /healthz phases of one run have differed by 45 %), which a 0.8 ratio of
# phases 10 s apart cannot see past. Each round measures /healthz and then each read path
# for PAIR_SECS each, back to back; a path's ratio is the median over the rounds of its
# throughput over that round's /healthz. The verdicts use it. They run last: their many
# new connections leave the server a little more memory (thread arenas), which would
# otherwise be counted in the login phases' peak RSS.
PAIR_SECS=${PAIR_SECS:-2}
ROUNDS=${ROUNDS:-7}
rps_of() {
  local out
  out=$(load wrk -t"$THREADS" -c"$CONNS" -d"${PAIR_SECS}s" --timeout 10s -s "$1" "$BASE" -- "${@:2}" | grep '^BENCH ') || exit 1
  awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         printf "%.1f", (v["requests"] - v["non2xx"]) / (v["usecs"] / 1e6) }' <<<"$out"
}
# Logins a phase left queued (wrk gave up on them) are still hashed: wait until the server
# idles (under 5 % of a core over half a second, for at most 30 s).
for _ in $(seq 1 60); do
  t0=$(server_ticks)
  sleep 0.5
  (($(server_ticks) - t0 <= 2)) && break
done
log "interleaved: $ROUNDS rounds of /healthz and each read path, ${PAIR_SECS}s each"
declare -A ROUND_RATIOS=()
for _ in $(seq 1 "$ROUNDS"); do
  h=$(rps_of bench/healthz.lua)
  for spec in "POST /v1/verify/key|bench/verify_key.lua|$TMP/keys" \
    "POST /v1/verify/session|bench/verify_session.lua|$TMP/tokens" "GET /v1/me|bench/me.lua|$TMP/tokens"; do
    IFS='|' read -r label script list <<<"$spec"
    r=$(rps_of "$script" "$list")
    ROUND_RATIOS[$label]+="$(awk -v r="$r" -v h="$h" 'BEGIN { printf "%.3f", r / h }') "
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# --- report --------------------------------------------------------------------------
echo
echo "Keystead bench: $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), wrk $THREADS threads," \
  "${DURATION}s per phase after ${WARMUP}s warm-up, server RUST_LOG=warn, workers ${KEYSTEAD_WORKERS:-default}"
echo "binary: $BIN ($(strip -o "$TMP/stripped" "$BIN" && wc -c <"$TMP/stripped") bytes stripped)"
echo "mode: ONE_CORE=${ONE_CORE:-0} MIXED=${MIXED:-0} SEEDED=${SEEDED:-0}"
echo "seeded: $( [[ ${SEEDED:-0} == 1 ]] && echo "bench-seed (${SEED_ACCOUNTS:-1000000} accounts), " )1 tenant through the API," \
  "read phases over $(wc -l <"$TMP/keys") API keys and $(wc -l <"$TMP/tokens") portal sessions"
echo "start-up to the first 200: ${STARTUP_MS} ms; idle RSS after start: $((IDLE_RSS_KIB / 1024)) MiB;" \
  "database before start: $DB_BYTES bytes$( [[ ${SEEDED:-0} == 1 ]] &&
    awk -v b="$DB_BYTES" -v n="${SEED_ACCOUNTS:-1000000}" 'BEGIN { printf " (%.0f MiB per million accounts)", b / n / 1.048576 }')"
echo
printf '%-26s %5s %8s %7s %7s %6s %7s %7s %7s %8s %6s %7s %s\n' endpoint conns 'req/s' 'p50 ms' 'p99 ms' \
  ratio 'RSS MiB' 'HWM MiB' 'srv CPU' 'host CPU' steal% threads 'non-2xx/tmo/sockerr'
for row in "${ROWS[@]}"; do
  IFS='|' read -r label conns rps p50 p99 rss hwm scpu hcpu steal threads bad tmo serr <<<"$row"
  awk -v l="$label" -v c="$conns" -v r="$rps" -v a="$p50" -v b="$p99" -v h="$HEALTHZ_RPS" \
    -v s="$rss" -v w="$hwm" -v sc="$scpu" -v hc="$hcpu" -v st="$steal" -v th="$threads" -v e="$bad/$tmo/$serr" 'BEGIN {
      printf "%-26s %5d %8.0f %7.2f %7.2f %6s %7.1f %7s %7.2f %8.2f %6.1f %7d %s\n", l, c, r, a / 1000, b / 1000,
        (c == 32 && l !~ /login/ ? sprintf("%.2f", r / h) : "-"), s / 1024,
        (w == "-" ? "-" : sprintf("%.1f", w / 1024)), sc, hc, st, th, e }'
done
echo
echo "ratios against the mean /healthz throughput: $HEALTHZ_RPS req/s;" \
  "srv/host CPU: cores busy on average in the server / on the whole machine (wrk included);" \
  "steal%: CPU time the hypervisor took from this VM during the phase"
if [[ ${PHASES:-all} != read ]]; then
  # The cores the server may hash on: one when pinned.
  CORES=$([[ ${ONE_CORE:-0} == 1 ]] && echo 1 || nproc)
  LOGIN_TARGET=$(awk -v c="$CORES" -v h="$HASH_MS" 'BEGIN { printf "%.1f", 0.9 * c * 1000 / h }')
  LOOSE_TARGET=$(awk -v c="$CORES" -v h="$LOGIN1_MS" 'BEGIN { printf "%.1f", 0.9 * c * 1000 / h }')
  echo "one login at a time: ${LOGIN1_MS} ms each (an upper bound on one argon2 hash);" \
    "p50 login - p50 key creation = ${HASH_MS} ms (estimate of one hash)"
  echo "login target: 0.9 x $CORES cores / ${HASH_MS} ms = ${LOGIN_TARGET} logins/s" \
    "(with the upper bound: ${LOOSE_TARGET}); measured ${LOGIN_RPS} at $CONNS connections"
fi
echo
echo "targets (issue 13):"
verdict() { awk -v v="$2" -v op="$3" -v t="$4" -v what="$1" -v note="${5:-}" 'BEGIN {
  ok = (op == ">=" ? v >= t : v < t)
  printf "  %-4s %-52s %s (target %s %s)%s\n", (ok ? "met" : "MISS"), what, v, op, t, note }'; }
# The read paths' tail next to the tail of /healthz (which does nothing but answer) in the
# same run, and the steal: what the server adds, and what the machine did.
declare -A QUIET_RPS=()
# vs_quiet LABEL RPS QUIET_LABEL: a phase's throughput against that of a quiet phase.
vs_quiet() {
  local quiet=${QUIET_RPS[$3]:-0}
  verdict "$1: ratio to its quiet rate" "$(awk -v r="$2" -v q="$quiet" 'BEGIN { printf "%.2f", (q > 0 ? r / q : 0) }')" \
    ">=" 0.95 "; quiet $quiet req/s"
}
HEALTHZ_P99=$(printf '%s\n' "${ROWS[@]}" |
  awk -F'|' '$1 ~ /^\/healthz/ { if ($5 > m) m = $5 } END { printf "%.2f", m / 1000 }')
for row in "${ROWS[@]}"; do
  IFS='|' read -r label conns rps p50 p99 rss hwm _ _ steal _ _ _ _ <<<"$row"
  peak=$(awk -v s="$rss" -v w="$hwm" 'BEGIN { if (w != "-" && w > s) s = w; printf "%.1f", s / 1024 }')
  case $label in
    "POST /v1/verify/key" | "POST /v1/verify/session" | "GET /v1/me")
      QUIET_RPS[$label]=$rps
      verdict "$label: ratio to /healthz" "$(median <<<"${ROUND_RATIOS[$label]}")" ">=" 0.90 \
        "; median of $ROUNDS interleaved rounds: ${ROUND_RATIOS[$label]% }"
      verdict "$label: p99 ms at $conns connections" "$(awk -v b="$p99" 'BEGIN { printf "%.2f", b / 1000 }')" "<" \
        "$(awk -v h="$HEALTHZ_P99" 'BEGIN { printf "%.2f", 1.25 * h + 0.005 }')" \
        "; 1.25 x /healthz p99 this run ($HEALTHZ_P99 ms); steal $steal %"
      verdict "$label: peak RSS MiB" "$peak" "<" 32
      ;;
    "GET /v1/me, 1 s after the flood") vs_quiet "$label" "$rps" "GET /v1/me" ;;
    *", mixed") vs_quiet "$label" "$rps" "${label%, mixed}" ;;
    "POST /v1/auth/login") verdict "login/s at $conns connections" "$LOGIN_RPS" ">=" "$LOGIN_TARGET" ;;
    "login flood") verdict "peak RSS MiB in the $FLOOD_CONNS-connection login flood" "$peak" "<" 64 ;;
  esac
done
if [[ -n ${ROWS_OUT:-} ]]; then
  printf '%s\n' "${ROWS[@]}" >"$ROWS_OUT"
fi
# Seeded against empty: the same route's p99 in the run before (SEEDED=both).
if [[ -n ${COMPARE_ROWS:-} ]]; then
  for row in "${ROWS[@]}"; do
    IFS='|' read -r label _ _ _ p99 _ <<<"$row"
    empty=$(awk -F'|' -v l="$label" '$1 == l { print $5 }' "$COMPARE_ROWS")
    [[ -n $empty && $label != *flood* && $label != *"1 at a time"* ]] || continue
    verdict "$label: seeded p99 / empty p99" "$(awk -v s="$p99" -v e="$empty" 'BEGIN { printf "%.2f", s / e }')" \
      "<" 1.51 "; empty $(awk -v e="$empty" 'BEGIN { printf "%.2f", e / 1000 }') ms"
  done
fi

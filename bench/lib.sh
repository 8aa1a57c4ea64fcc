# Shared by the bench scripts (sourced from the repository root): messages, tools from
# apt, the binary measured, and a server on a free loopback port.

log() { printf '%s\n' "$*" >&2; }

# Installs each Debian package named whose command is missing, with apt-get.
need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null && continue
    log "installing $tool"
    if ! apt-get install -y "$tool" >/dev/null 2>&1; then
      apt-get update >/dev/null && apt-get install -y "$tool" >/dev/null
    fi
  done
}

# BIN: BENCH_BIN=path/to/keystead (another build under the same conditions), or this
# checkout's release build.
bench_binary() {
  if [[ -n ${BENCH_BIN:-} ]]; then
    BIN=$BENCH_BIN
  else
    # The same build as the Dockerfile's (tests/it/deploy.rs keeps them one).
    log "building the release binary (cargo build --release --locked)"
    cargo build --release --locked --quiet
    BIN="$ROOT/target/release/keystead"
  fi
}

# PORT and BASE: a loopback port nothing listens on.
free_port() {
  for _ in $(seq 1 50); do
    PORT=$((20000 + RANDOM % 40000))
    ! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  done
  BASE="http://127.0.0.1:$PORT"
}

# Waits up to $1 seconds for $BASE/healthz while SERVER_PID runs; on failure shows the
# server's log ($2) and exits.
await_server() {
  for _ in $(seq 1 $(($1 * 10))); do
    curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$2" >&2
  log "the server did not answer"
  exit 1
}

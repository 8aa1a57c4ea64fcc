#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, unit, integration and browser tests.
# Needs the Rust toolchain (cargo, rustfmt, clippy); installs what the tests need from
# Debian when it is missing: chromium and chromium-driver for the browser tests
# (tests/browser), systemd for `systemd-analyze verify` of the unit (tests/it/deploy.rs),
# nginx and caddy for forward authentication behind real proxies (tests/it/proxies.rs),
# openssl and curl to make certificates for and talk to built-in TLS (tests/it/tls.rs),
# npm to install axe-core from the npm registry into target/axe for the accessibility
# check of every page (tests/browser/a11y.rs; it fails without it), python3-prometheus-client
# to parse the metrics with Prometheus' own parser (tests/it/metrics.rs), python3-venv for
# the pinned authlib relying party of the OpenID Connect tests (tests/browser/oidc.rs) in
# target/oidc-venv.
set -euo pipefail
cd "$(dirname "$0")"
missing=()
command -v chromedriver >/dev/null || missing+=(chromium chromium-driver)
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v nginx >/dev/null || missing+=(nginx-light)
command -v caddy >/dev/null || missing+=(caddy)
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl ca-certificates)
command -v npm >/dev/null || missing+=(npm)
/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null || missing+=(python3-prometheus-client)
/usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
# Pinned: a new axe release may add rules, which is a change to review, not a surprise.
axe=4.14.1
if ! grep -qs "\"version\": \"$axe\"" target/axe/node_modules/axe-core/package.json; then
    npm install --prefix target/axe "axe-core@$axe" --no-audit --no-fund
fi
# The same for the relying party's Python packages: reinstalled only when the pins change.
rp=tests/browser/oidc_rp.requirements.txt
if ! cmp -s "$rp" target/oidc-venv/requirements.txt; then
    rm -rf target/oidc-venv
    /usr/bin/python3 -m venv target/oidc-venv
    target/oidc-venv/bin/pip install --quiet --disable-pip-version-check --no-input -r "$rp"
    cp "$rp" target/oidc-venv/requirements.txt
fi
export OIDC_RP_PYTHON="$PWD/target/oidc-venv/bin/python"
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked

#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, unit, integration and browser tests.
# Needs the Rust toolchain (cargo, rustfmt, clippy); installs Debian's chromium and
# chromium-driver for the browser tests (tests/browser) when chromedriver is missing.
set -euo pipefail
cd "$(dirname "$0")"
command -v chromedriver >/dev/null ||
    (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver)
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked

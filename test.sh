#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, unit and integration tests.
# Needs only the Rust toolchain (cargo, rustfmt, clippy); installs nothing else yet.
set -euo pipefail
cd "$(dirname "$0")"
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked

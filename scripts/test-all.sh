#!/usr/bin/env bash
# Runs every check and test of the workspace: formatting, clippy, the Rust tests, and the interop
# tests with Duo's official Python client (installed into .venv on first use).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
scripts/interop-tests.sh

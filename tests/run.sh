#!/usr/bin/env bash
# The test command (README, CI): makes sure the PDF tools the tests use are
# installed (poppler-utils for pdftotext/pdffonts/pdfinfo/pdfdetach, qpdf,
# zbar-tools to read the QR code), then runs the test suite against an
# optimised build.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pdftotext >/dev/null || ! command -v qpdf >/dev/null || ! command -v zbarimg >/dev/null; then
  echo "tests/run.sh: installing poppler-utils, qpdf and zbar-tools" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq poppler-utils qpdf zbar-tools >/dev/null
fi

cargo test --release --locked "$@"

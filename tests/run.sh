#!/usr/bin/env bash
# The test command (README, CI): makes sure the PDF tools the tests use are
# installed (poppler-utils for pdftotext/pdffonts/pdfinfo/pdfdetach, qpdf,
# zbar-tools to read the QR code; Python's jsonschema), then runs the test
# suite against an optimised build.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pdftotext >/dev/null || ! command -v qpdf >/dev/null || ! command -v zbarimg >/dev/null || ! command -v convert >/dev/null; then
  echo "tests/run.sh: installing poppler-utils, qpdf, zbar-tools and imagemagick" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq poppler-utils qpdf zbar-tools imagemagick >/dev/null
fi

# Python's jsonschema checks `formpress schema` output as editors would.
if ! python3 -c "import jsonschema" 2>/dev/null; then
  echo "tests/run.sh: installing the Python package jsonschema" >&2
  python3 -m pip install --quiet jsonschema
fi

cargo test --release --locked "$@"

#!/usr/bin/env bash
# The test command (README, CI): makes sure the tools the tests check our
# output with are installed, then runs the test suite against an optimised
# build.
#   apt: poppler-utils (pdftotext, pdffonts, pdfinfo, pdfdetach, pdfsig),
#        qpdf, zbar-tools (zbarimg reads the QR code), imagemagick (builds
#        test scans), chromium + chromium-driver (the serve app's browser
#        tests), firefox-esr (the editor in Firefox ESR), libreoffice-calc
#        (opens exported .xlsx), openssl (test keys), fonts-arphic-uming (the
#        宋体 easyofd draws OFD text with)
#   pip: jsonschema (checks `formpress schema`), selenium (drives Chromium),
#        marionette-driver (drives Firefox ESR without geckodriver),
#        openpyxl (reads/builds .xlsx), pyhanko (validates signatures),
#        pyyaml (the xlsx tests compare YAML data), easyofd (reads OFD back;
#        brings PyMuPDF, fontTools and reportlab)
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(poppler-utils qpdf zbar-tools imagemagick chromium chromium-driver firefox-esr libreoffice-calc openssl fonts-arphic-uming)
pip_packages=(jsonschema selenium marionette-driver openpyxl pyhanko pyyaml easyofd)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "tests/run.sh: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

missing=()
for p in "${pip_packages[@]}"; do
  python3 -m pip show --quiet "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "tests/run.sh: installing the Python packages ${missing[*]}" >&2
  python3 -m pip install --quiet "${missing[@]}"
fi

cargo test --release --locked "$@"

#!/usr/bin/env bash
# Set up EDWC Planner on a fresh Debian/Ubuntu machine (or any machine with Python >= 3.11).
#   ./setup.sh          system fonts for Chinese labels, Pango for the PDF report (WeasyPrint) + the package
#   ./setup.sh --test   the same, plus test tools and Chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
extras=""
# fonts-noto-cjk: the CJK font file geo/fonts.py registers; Pango and HarfBuzz: WeasyPrint's PDF layout.
system_packages=(fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)
if [[ "${1:-}" == "--test" ]]; then
  extras="[test]"
  system_packages+=(chromium)
fi
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  if ! dpkg -s "${system_packages[@]}" >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${system_packages[@]}"
  fi
else
  echo "setup.sh: no apt-get here; install a CJK font (e.g. Noto Sans CJK) for Chinese labels and Pango for PDF reports." >&2
fi
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e ".${extras}"

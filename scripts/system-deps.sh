#!/usr/bin/env bash
# Debian packages the tests need (browser tests, LDAP). Installed only when missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then
    echo "error: missing Debian packages ${need[*]}; install them as root (apt-get install ${need[*]})" >&2
    exit 2
  fi
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

#!/usr/bin/env bash
# Installs what captcha-login needs on Debian/Ubuntu with Node 20: the system libraries
# that node-canvas builds against (npm cannot download its prebuilt binary everywhere),
# then the npm packages. With --with-browser it also installs Debian's Chromium and a
# CJK font for the browser tests. Only missing Debian packages are installed.
set -euo pipefail
cd "$(dirname "$0")/.."

# wrk: the load generator of npm run bench's scaling rows (the bench says so and skips them without it).
# redis-server, postgresql: npm test starts private instances of both (scripts/test.ts); none needs to be running.
packages=(build-essential python3 pkg-config libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev wrk redis-server postgresql)
if [[ "${1:-}" == "--with-browser" ]]; then
  packages+=(chromium fonts-wqy-microhei)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "setup: Node 20 or newer is needed, found $(node --version)" >&2
  exit 1
fi

# Reinstall only when the lock file changed since the last install.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

# Production runs the compiled JavaScript (npm start = node dist/server.js).
npm run build

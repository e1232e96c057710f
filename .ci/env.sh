#!/usr/bin/env bash
# Prepares this machine for RunLens development, then runs the given command.
#   bash .ci/env.sh <command...>
# - Node 24 from the npm registry (package node-linux-<arch>) when the machine's Node is older.
# - Debian packages that code-server and the browser tests need, when missing (skipped off Debian).
# - The project's npm dependencies, and code-server, into this checkout (.tools/, node_modules/).
# Nothing is installed globally except Debian packages.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
say() { printf '[runlens setup] %s\n' "$*" >&2; }
# Each install step prints one line; its output goes to .tools/setup.log (started afresh by the first
# step of a call), and only a failure shows its last lines. RUNLENS_SETUP_LOG names the log once written.
log="$tools/setup.log"
unset RUNLENS_SETUP_LOG
quiet() {
  local what="$1"; shift
  if [ -z "${RUNLENS_SETUP_LOG:-}" ]; then mkdir -p "$tools"; : > "$log"; export RUNLENS_SETUP_LOG="$log"; fi
  say "$what (log: .tools/setup.log)"
  printf '\n== %s\n' "$what" >> "$log"
  if ! "$@" >> "$log" 2>&1; then
    tail -20 "$log" >&2; say "failed: $what; the whole output is in $log"; exit 1
  fi
}
# `npm test` on the machine's old Node exports npm_* variables (user agent "node/v20", its execpath);
# nested installs would inherit them and build for the wrong Node. Start clean.
for v in $(compgen -e | grep '^npm_' || true); do unset "$v"; done
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# 1. Node 24
case "$(uname -m)" in x86_64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
nodepkg="$tools/node/node_modules/node-linux-$arch"
if [ "$(node_major)" -lt 24 ]; then
  if [ ! -x "$nodepkg/bin/node" ]; then
    mkdir -p "$tools/node"
    quiet "machine Node is $(node --version 2>/dev/null || echo missing); installing Node 24 from the npm registry into .tools/node" \
      npm install --no-save --no-package-lock --loglevel=error --prefix "$tools/node" "node-linux-$arch@24"
  fi
  export PATH="$nodepkg/bin:$PATH"
  export npm_config_nodedir="$nodepkg"
else
  export npm_config_nodedir="$(dirname "$(dirname "$(command -v node)")")"
fi
say "using Node $(node --version) at $(command -v node)"

# 2. Debian packages (code-server's native modules, headless Chromium and an emoji font for its screenshots, git, python3,
#    a Jupyter kernel for the notebook tests)
if [ -f /etc/debian_version ] && command -v dpkg-query >/dev/null; then
  want=(build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev chromium fonts-noto-color-emoji git python3 python3-ipykernel python3-nbclient)
  missing=()
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    apt_install() { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; }
    quiet "installing Debian packages: ${missing[*]}" apt_install
  fi
else
  say "not Debian: skipping apt; install code-server's build deps and Chromium yourself"
fi

# 3. The project's dependencies
stamp="$root/node_modules/.runlens-lock"
if [ ! -f "$stamp" ] || ! cmp -s "$root/package-lock.json" "$stamp"; then
  npm_deps() ( cd "$root" && if [ -f package-lock.json ]; then npm ci --no-fund --no-audit --loglevel=error; else npm install --no-fund --no-audit --loglevel=error; fi )
  quiet "installing npm dependencies into node_modules/" npm_deps
  cp "$root/package-lock.json" "$stamp"
fi

# 4. code-server (VS Code in the browser: the real extension host for tests and npm start)
cs_version="4.139.1"
cs="$tools/code-server/node_modules/.bin/code-server"
if [ ! -x "$cs" ] || [ "$(cat "$tools/code-server/.version" 2>/dev/null)" != "$cs_version" ]; then
  rm -rf "$tools/code-server"; mkdir -p "$tools/code-server"
  quiet "installing code-server $cs_version into .tools/code-server (about 2 minutes)" \
    npm install --no-save --no-package-lock --no-fund --no-audit --loglevel=error --prefix "$tools/code-server" "code-server@$cs_version"
  echo "$cs_version" > "$tools/code-server/.version"
fi
export RUNLENS_CODE_SERVER="$cs"
export RUNLENS_CHROMIUM="${RUNLENS_CHROMIUM:-$(command -v chromium || true)}"

[ $# -gt 0 ] && exec "$@"

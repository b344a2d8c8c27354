#!/usr/bin/env bash
# Client compatibility suites: Microsoft's own clients, unchanged, against enrollgraph servers
# this script starts (and stops). Everything it installs stays inside the checkout
# (target/clients-venv). Usage: clients/run.sh [path/to/enrollgraph]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin="${1:-$root/target/debug/enrollgraph}"
[ -x "$bin" ] || cargo build -p enrollgraph
venv="$root/target/clients-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r clients/requirements.txt

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# start_server NAME ARGS...: starts `enrollgraph serve` on a free port; sets $addr.
start_server() {
  local name=$1; shift
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$work/$name" "$@" >"$work/$name.out" 2>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 1 100); do
    addr=$(grep -o 'http[s]*://127.0.0.1:[0-9]*' "$work/$name.out" 2>/dev/null | head -1 | sed 's|.*://||') || true
    [ -n "$addr" ] && return 0
    sleep 0.1
  done
  echo "server $name did not start:" >&2; cat "$work/$name.log" >&2; exit 1
}

echo "== proxy mode: Python Graph SDK + azure-identity through HTTPS_PROXY, default base URL"
"$bin" app add --data-dir "$work/proxy" --name "proxy e2e" >"$work/app.json"
"$bin" ca --data-dir "$work/proxy" >"$work/ca.pem"
start_server proxy --proxy
read -r tenant client secret < <("$venv/bin/python" -c 'import json,sys; a=json.load(open(sys.argv[1])); print(a["tenantId"], a["clientId"], a["clientSecret"])' "$work/app.json")
HTTPS_PROXY="http://$addr" SSL_CERT_FILE="$work/ca.pem" REQUESTS_CA_BUNDLE="$work/ca.pem" \
  ENROLLGRAPH_BIN="$bin" ENROLLGRAPH_DATA_DIR="$work/proxy" \
  ENROLLGRAPH_TENANT_ID="$tenant" ENROLLGRAPH_CLIENT_ID="$client" ENROLLGRAPH_CLIENT_SECRET="$secret" \
  "$venv/bin/python" clients/python/proxy_e2e.py

echo "clients: all suites passed"

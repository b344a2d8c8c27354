#!/usr/bin/env bash
# Client compatibility suites: Microsoft's own clients, unchanged, against enrollgraph servers
# this script starts (and stops), then the OpenAPI documents checked by a validator and fuzzed
# by schemathesis. Everything it installs stays inside the checkout: target/clients-venv (pip),
# clients/js/node_modules (npm ci), target/clients-rust (the graph-rs-sdk example).
#
# Usage: clients/run.sh [path/to/enrollgraph]
# Environment: ENROLLGRAPH_CLIENTS_RUST=0 skips the graph-rs-sdk example (a large first build);
# ENROLLGRAPH_FUZZ_SECONDS (default 75) is schemathesis' time budget per API version.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$SECONDS
timings=()

section_name=""
section_start=0
# section NAME: prints a header and closes the previous section with its duration.
section() {
  end_section
  section_name=$1
  section_start=$SECONDS
  echo
  echo "== $section_name"
}
end_section() {
  if [ -n "$section_name" ]; then
    local took=$((SECONDS - section_start))
    echo "-- $section_name: ${took}s"
    timings+=("$(printf '%5ss  %s' "$took" "$section_name")")
  fi
  section_name=""
}

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do
    pkill -P "$p" 2>/dev/null || true # the background build's cargo
    kill "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

section "setup: enrollgraph"
if [ $# -ge 1 ]; then
  bin=$(realpath "$1")
else
  cargo build -q -p enrollgraph
  bin="$root/target/debug/enrollgraph"
fi
[ -x "$bin" ] || { echo "no enrollgraph binary at $bin" >&2; exit 1; }

# graph-rs-sdk is a large crate: its example builds in the background while the other suites run.
rust=${ENROLLGRAPH_CLIENTS_RUST:-1}
if [ "$rust" != 0 ]; then
  (
    built=$SECONDS
    cargo build -q --locked --manifest-path clients/rust/Cargo.toml --target-dir "$root/target/clients-rust" \
      --example round_trip
    echo "$((SECONDS - built))" >"$work/rust-build.secs"
  ) >"$work/rust-build.log" 2>&1 &
  rust_build=$!
  pids+=("$rust_build")
fi

section "setup: Python venv (pip install)"
venv="$root/target/clients-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r clients/requirements.txt -c clients/constraints.txt
section "setup: npm ci"
(cd clients/js && npm ci --no-audit --no-fund --loglevel=error)

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

# token NAME [ARGS...]: a token signed by server NAME's key.
token() {
  local name=$1; shift
  "$bin" token --data-dir "$work/$name" "$@"
}

section "proxy mode: Python Graph SDK + azure-identity through HTTPS_PROXY, default base URL"
"$bin" app add --data-dir "$work/proxy" --name "proxy e2e" >"$work/app.json"
"$bin" ca --data-dir "$work/proxy" >"$work/ca.pem"
start_server proxy --proxy
read -r tenant client secret < <("$venv/bin/python" -c 'import json,sys; a=json.load(open(sys.argv[1])); print(a["tenantId"], a["clientId"], a["clientSecret"])' "$work/app.json")
HTTPS_PROXY="http://$addr" SSL_CERT_FILE="$work/ca.pem" REQUESTS_CA_BUNDLE="$work/ca.pem" \
  ENROLLGRAPH_BIN="$bin" ENROLLGRAPH_DATA_DIR="$work/proxy" \
  ENROLLGRAPH_TENANT_ID="$tenant" ENROLLGRAPH_CLIENT_ID="$client" ENROLLGRAPH_CLIENT_SECRET="$secret" \
  "$venv/bin/python" clients/python/proxy_e2e.py

section "Python: msgraph-beta-sdk (beta) and msgraph-sdk (v1.0), base_url and a static token"
start_server python
python_token=$(token python)
python_read_token=$(token python --scope DeviceManagementServiceConfig.Read.All)
# pytest exits 5 when it collects no test: like any other non-zero exit, that fails the run.
(cd clients/python &&
  ENROLLGRAPH_URL="http://$addr" ENROLLGRAPH_TOKEN="$python_token" ENROLLGRAPH_READ_TOKEN="$python_read_token" \
  "$venv/bin/python" -m pytest -p no:cacheprovider -q -W ignore::DeprecationWarning test_beta.py test_v1.py)

section "JavaScript: @microsoft/microsoft-graph-client (HTTPS, customHosts) and kiota @microsoft/msgraph-beta-sdk"
start_server js
js_url="http://$addr"
start_server js-tls --tls
js_tls_url="https://$addr"
"$bin" ca --data-dir "$work/js-tls" >"$work/js-ca.pem"
js_token=$(token js)
js_tls_token=$(token js-tls)
(cd clients/js &&
  ENROLLGRAPH_URL="$js_url" ENROLLGRAPH_TOKEN="$js_token" \
  ENROLLGRAPH_TLS_URL="$js_tls_url" ENROLLGRAPH_TLS_TOKEN="$js_tls_token" \
  NODE_EXTRA_CA_CERTS="$work/js-ca.pem" \
  node --test --test-concurrency=1 --test-reporter=spec classic.test.mjs kiota-beta.test.mjs)

if [ "$rust" != 0 ]; then
  section "Rust: graph-rs-sdk round trip (examples/round_trip.rs)"
  if ! wait "$rust_build"; then
    cat "$work/rust-build.log" >&2
    echo "the graph-rs-sdk example did not build" >&2
    exit 1
  fi
  echo "(its build took $(cat "$work/rust-build.secs")s, in the background)"
  start_server rust
  rust_token=$(token rust)
  ENROLLGRAPH_URL="http://$addr" ENROLLGRAPH_TOKEN="$rust_token" \
    "$root/target/clients-rust/debug/examples/round_trip"
fi

section "OpenAPI: openapi-spec-validator on both versions' documents"
start_server fuzz
fuzz_url="http://$addr"
for version in beta v1.0; do
  "$venv/bin/python" -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1]).read())' \
    "$fuzz_url/$version/openapi.json" "$work/openapi-$version.json"
  "$venv/bin/openapi-spec-validator" "$work/openapi-$version.json"
done

section "schemathesis: no 5xx, every response matches the document (both versions)"
fuzz_token=$(token fuzz)
for version in beta v1.0; do
  echo "-- $version"
  # Run from the scratch dir: schemathesis and Hypothesis keep caches in the working directory.
  (cd "$work" && "$venv/bin/schemathesis" run "$fuzz_url/$version/openapi.json" \
    -H "Authorization: Bearer $fuzz_token" \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples 25 --max-time "${ENROLLGRAPH_FUZZ_SECONDS:-75}" \
    --generation-database none --no-color --report-dir "$work/schemathesis")
done

end_section
echo
echo "== clients: all suites passed in $((SECONDS - started))s"
printf '%s\n' "${timings[@]}"

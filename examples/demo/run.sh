#!/usr/bin/env bash
# run.sh: the demo: the daemon on examples/demo/logwarden.yaml, fed by feeder.py.
# usage: examples/demo/run.sh [PATH/TO/logwarden]     (from anywhere; works in the repo root)
# Each run starts afresh in ./var/demo. Ctrl-C (or SIGTERM) stops both cleanly and exits 0.
# LW_DEMO_SECONDS=N stops by itself after N seconds (for a smoke test).
# LW_DEMO_PORT (9880: the dashboard), LW_DEMO_SYSLOG_PORT (5514) and LW_DEMO_DIR (var/demo) move
# it elsewhere, e.g. when a port is taken.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${1:-build/logwarden}"
case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
cd "$root"

if [ ! -x "$bin" ]; then
    echo "run.sh: $bin is not built yet: run 'make build' (or 'make run')" >&2
    exit 2
fi
command -v python3 >/dev/null || { echo "run.sh: python3 is needed for the feeder" >&2; exit 2; }

# Syslog timestamps carry no zone: sender and daemon agree on UTC.
export TZ=UTC
demo="${LW_DEMO_DIR:-var/demo}"
port="${LW_DEMO_PORT:-9880}"
syslog_port="${LW_DEMO_SYSLOG_PORT:-5514}"
rm -rf "$demo"
mkdir -p "$demo"
demo="$(cd "$demo" && pwd)"
: >"$demo/access.log"
: >"$demo/secure.log"

# examples/demo/logwarden.yaml, in the demo's folder: its files there, the rules here, the ports
# asked for.
sed -e "s|\.\./\.\./var/demo/||" -e "s|^  - rules/|  - $root/examples/demo/rules/|" \
    -e "s|127\.0\.0\.1:9880|127.0.0.1:$port|" -e "s|127\.0\.0\.1:5514|127.0.0.1:$syslog_port|g" \
    examples/demo/logwarden.yaml >"$demo/logwarden.yaml"

echo "demo: $bin run -c $demo/logwarden.yaml (examples/demo/logwarden.yaml)" >&2
echo "demo: alerts print below and go to $demo/alerts.jsonl; Ctrl-C stops" >&2
echo "demo: the dashboard is at http://127.0.0.1:$port/ (an ssh brute force fires within" \
     "about 15 s and resolves 30 s after it; click an alert for its explanation)" >&2

# From the config's folder, so its relative paths mean the same to every part of the daemon.
(cd "$demo" && exec "$bin" run -c logwarden.yaml) &
daemon=$!
feeder_args=(--dir "$demo" --syslog "127.0.0.1:$syslog_port")
[ -n "${LW_DEMO_SECONDS:-}" ] && feeder_args+=(--duration "$LW_DEMO_SECONDS")
python3 examples/demo/feeder.py "${feeder_args[@]}" &
feeder=$!

# Background jobs of a script ignore SIGINT, so the trap stops the feeder with SIGTERM. The
# daemon catches a terminal's Ctrl-C itself; it gets a SIGTERM only if it has not begun to
# stop on its own within 2 s (one signal: a second one may cut its drain short).
stopping=0
stop_all() {
    [ "$stopping" = 0 ] || return 0
    stopping=1
    kill -TERM "$feeder" 2>/dev/null || true
    for _ in $(seq 20); do
        kill -0 "$daemon" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -TERM "$daemon" 2>/dev/null || true
}
trap stop_all INT TERM

# Until one of the two ends: Ctrl-C, LW_DEMO_SECONDS, or the daemon failing (bad config).
wait -n "$daemon" "$feeder" || true
stop_all
wait "$feeder" 2>/dev/null || true
code=0
wait "$daemon" || code=$?
if [ "$code" != 0 ]; then
    echo "demo: logwarden exited with status $code" >&2
    exit "$code"
fi
echo "demo: stopped; alerts are in $demo/alerts.jsonl" >&2
exit 0

#!/bin/sh
# examples/fleet/run.sh: two logwarden instances in one Kafka consumer group behind one
# Alertmanager, all on loopback, fed by producer.py; one command:
#
#   examples/fleet/run.sh BIN [--seconds 30] [--check]
#
# BIN is the built logwarden. Kafka is librdkafka's mock cluster (tests/kafka/lw_mockkafka: 3
# brokers, topic app-logs with 6 partitions; found beside BIN's build, or compiled here), unless
# KAFKA_BROKERS=host:port,... names a real one (with the topic app-logs). Needs kcat and
# prometheus-alertmanager (Debian packages). Ports: AM_PORT (9093), A_PORT (9880), B_PORT (9881).
# Prints which partitions each instance owns and what the Alertmanager shows; --check exits 1
# unless both alerts the producer provokes are there, each once. Everything stops at the end
# (or on Ctrl-C); the work folder (logs, state files) is printed and kept.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin= seconds=30 check=
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) seconds=$2; shift ;;
    --check) check=1 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) bin=$1 ;;
    esac
    shift
done
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "usage: examples/fleet/run.sh BIN [--seconds 30] [--check]" >&2
    exit 2
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
am_port=${AM_PORT:-9093} a_port=${A_PORT:-9880} b_port=${B_PORT:-9881}
for tool in kcat python3; do
    command -v $tool >/dev/null || { echo "run.sh: $tool is not installed" >&2; exit 2; }
done
am=$(command -v prometheus-alertmanager || command -v alertmanager || true)
[ -n "$am" ] || { echo "run.sh: prometheus-alertmanager is not installed" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/logwarden-fleet.XXXXXX")
pids=      # alertmanager
lw_pids=   # the two instances
# The instances first (they leave the group and commit while Kafka is still up), then the
# Alertmanager and the mock; an instance still running after 20 s is killed.
cleanup() {
    for p in $lw_pids; do kill "$p" 2>/dev/null || true; done
    i=0
    while [ $i -lt 200 ]; do
        alive=
        for p in $lw_pids; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ -z "$alive" ] && break
        sleep 0.1
        i=$((i + 1))
    done
    for p in $lw_pids; do
        kill -0 "$p" 2>/dev/null && { echo "fleet: $p did not stop in 20 s: killed" >&2; kill -9 "$p"; }
    done
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    if [ -n "${mock_pid:-}" ]; then echo quit >&3 || true; fi
    wait 2>/dev/null || true
    echo "fleet: stopped; logs and state in $work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

brokers=${KAFKA_BROKERS:-}
if [ -z "$brokers" ]; then
    mock=${LW_MOCKKAFKA:-$(dirname "$bin")/tests/kafka/lw_mockkafka}
    if [ ! -x "$mock" ]; then
        mock=$work/lw_mockkafka
        ${CC:-cc} -O2 -std=c11 -o "$mock" "$repo/tests/kafka/lw_mockkafka.c" \
            $(pkg-config --cflags --libs rdkafka)
    fi
    mkfifo "$work/mock.in"
    "$mock" -b 3 -t app-logs:6 <"$work/mock.in" >"$work/mock.out" 2>"$work/mock.log" &
    mock_pid=$!
    exec 3>"$work/mock.in"   # the mock lives until this closes (or "quit")
    i=0
    while [ ! -s "$work/mock.out" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    brokers=$(head -n 1 "$work/mock.out")
    echo "fleet: Kafka (librdkafka's mock cluster) at $brokers"
fi

mkdir -p "$work/am-data"
"$am" --config.file="$here/alertmanager.yml" --storage.path="$work/am-data" \
    --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= >"$work/alertmanager.log" 2>&1 &
pids="$pids $!"

cp "$here/rules.yaml" "$work/"
for x in a b; do
    port=$a_port; [ $x = b ] && port=$b_port
    sed -e "s#brokers: \[127.0.0.1:9092\]#brokers: [$brokers]#" \
        -e "s#http://127.0.0.1:9093#http://127.0.0.1:$am_port#" \
        -e "s#listen: 127.0.0.1:98[0-9][0-9]#listen: 127.0.0.1:$port#" \
        "$here/logwarden-$x.yaml" >"$work/logwarden-$x.yaml"
    (cd "$work" && exec "$bin" run -c "logwarden-$x.yaml" >"$x.log" 2>&1) &
    lw_pids="$lw_pids $!"
done

# Waits, then reports, with Python's urllib (no curl needed).
python3 - "$a_port" "$b_port" <<'PY'
import sys, time, urllib.request
def owned(port):
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return None
    return sorted({int(l.split('partition="')[1].split('"')[0]) for l in text.splitlines()
                   if l.startswith("logwarden_kafka_messages_total{")})
deadline = time.time() + 30
while time.time() < deadline:
    a, b = owned(sys.argv[1]), owned(sys.argv[2])
    if a is not None and b is not None and len(a) + len(b) == 6 and a and b:
        break
    time.sleep(0.5)
print(f"fleet: instance a owns partitions {a}, instance b {b}")
PY

for x in a b; do   # an instance that could not start (a port in use, ...) ends the example
    p=$(echo $lw_pids | cut -d' ' -f$([ $x = a ] && echo 1 || echo 2))
    if ! kill -0 "$p" 2>/dev/null; then
        echo "fleet: instance $x did not start:" >&2
        tail -n 5 "$work/$x.log" >&2
        exit 1
    fi
done
python3 "$here/producer.py" "$brokers" --seconds "$seconds"
sleep 3
python3 - "$am_port" "$check" <<'PY'
import json, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
want = {("ServiceErrors", "checkout"), ("ServiceSlow", "search")}
deadline = time.time() + 20
while True:
    alerts = json.load(urllib.request.urlopen(base + "/api/v2/alerts?active=true", timeout=5))
    got = [(a["labels"].get("alertname"), a["labels"].get("service")) for a in alerts]
    if want <= set(got) or time.time() > deadline:
        break
    time.sleep(1)
print("fleet: Alertmanager shows:")
for a in alerts:
    print(f"  {a['labels'].get('alertname')} {a['labels'].get('service')}: "
          f"{a['annotations'].get('summary', '')}")
if sys.argv[2]:
    missing = want - set(got)
    twice = {x for x in got if got.count(x) > 1}
    print(f"fleet: check: missing {sorted(missing) or 'none'}, twice {sorted(twice) or 'none'}")
    sys.exit(1 if missing or twice else 0)
PY

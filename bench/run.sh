#!/bin/sh
# bench/run.sh: the benchmark (`make bench`). See bench/README.md.
#
#   bench/run.sh BIN [--size 200MB] [--seed 1] [--reps 2] [--only nginx-1,mixed-20]
#                    [--mtail-all] [--no-mtail] [--no-daemon]
#   bench/run.sh --smoke BIN      # ~30 s: 4 MB corpora, nginx-1 and mixed-20, cross-checks, and the
#                                 # latency and soak smokes (~10 s each); exit 1 on failure
#   bench/run.sh BIN --latency [--rate 100000]   # alert latency, write() to webhook (latency.py, ~70 s)
#   bench/run.sh BIN --soak [MINUTES] [--rate 50000]   # memory soak, 100 rules (soak.py; default 10 min)
#   bench/run.sh BIN --tail [--only SCENARIO,...] [--no-mtail]   # tailing 1/100/1000 files, idle
#                                 # memory per file, a rotation storm; against mtail (tail.py, ~2 min)
#   bench/run.sh --smoke --tail BIN   # the tailing smoke (~30 s); exit 1 if logwarden missed a line
#                                 # (--strict [--keep 0]: in the storm too)
#   bench/run.sh BIN --kafka [--lines 100000] [--reps 3]   # consuming a 6-partition topic of the
#                                 # mock cluster through mixed-20, against kcat; RSS with 6 and 60
#                                 # partitions (kafka.py, ~1 min)
#   bench/run.sh --smoke --kafka BIN  # the Kafka smoke (~15 s); exit 1 unless it counts exactly
#   bench/run.sh BIN --syslog [--lines 100000] [--reps 3] [--only file,udp,tcp,tls,burst]
#                                 # syslog over UDP, TCP and TLS through mixed-20 against the same
#                                 # lines from a file, every message accounted for; the 100 000-
#                                 # message UDP burst's loss (syslog.py, ~1 min)
#   bench/run.sh --smoke --syslog BIN # the syslog smoke (~10 s); exit 1 on an unaccounted message
#
# Generates (and caches in bench/.cache) the corpora, builds bench/pcre_loop.c, then measures
# logwarden replay, the live daemon, mtail --one_shot, the bare PCRE2-JIT loop, grep -c -E -f and
# wc -l on one core, and prints one markdown table. LW_BENCH_CACHE=DIR puts the cache elsewhere
# (e.g. in the build tree for a ctest run of --smoke).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
smoke=
bin=
args=
live=   # options for latency.py and soak.py
tail=   # options for tail.py
kafka=  # options for kafka.py
syslog= # options for syslog.py
mode=bench
while [ $# -gt 0 ]; do
    case $1 in
    --smoke) smoke=--smoke ;;
    --size|--reps) args="$args $1 $2"; kafka="$kafka $1 $2"; syslog="$syslog $1 $2"; shift ;;
    --only) args="$args $1 $2"; tail="$tail $1 $2"; syslog="$syslog $1 $2"; shift ;;
    --seed) args="$args $1 $2"; live="$live $1 $2"; shift ;;
    --rate) live="$live $1 $2"; shift ;;
    --latency) mode=latency ;;
    --tail) mode=tail ;;
    --kafka) mode=kafka ;;
    --syslog) mode=syslog ;;
    --lines) kafka="$kafka $1 $2"; syslog="$syslog $1 $2"; shift ;;
    --strict) tail="$tail $1" ;;
    --keep) tail="$tail $1 $2"; shift ;;
    --soak) mode=soak
        case ${2:-} in [0-9]*) live="$live --minutes $2"; shift ;; esac ;;
    --no-mtail) args="$args $1"; tail="$tail $1" ;;
    --mtail-all|--no-daemon) args="$args $1" ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
    *) bin=$1 ;;
    esac
    shift
done
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "usage: bench/run.sh [--smoke] BIN [--size 200MB] (BIN: the logwarden binary, built)" >&2
    exit 2
fi
# shellcheck disable=SC2086
case $mode in
latency) exec python3 "$here/latency.py" --bin "$bin" $live ;;
soak) exec python3 "$here/soak.py" --bin "$bin" $live ;;
tail) exec python3 "$here/tail.py" --bin "$bin" $smoke $tail ;;
kafka) exec python3 "$here/kafka.py" --bin "$bin" $smoke $kafka ;;
syslog) exec python3 "$here/syslog.py" --bin "$bin" $smoke $syslog ;;
esac
command -v mtail >/dev/null 2>&1 || echo "bench: mtail not installed (apt-get install mtail): its rows are skipped" >&2

cache=${LW_BENCH_CACHE:-$here/.cache}   # corpora, pcre_loop, the last run's details
mkdir -p "$cache"
loop=$cache/pcre_loop
if [ ! -x "$loop" ] || [ "$here/pcre_loop.c" -nt "$loop" ]; then
    ${CC:-cc} -O2 -std=c11 -Wall -Wextra -o "$loop" "$here/pcre_loop.c" \
        $(pkg-config --cflags --libs libpcre2-8)
fi
if [ -n "$smoke" ]; then  # the throughput smoke, then the live daemon's: all must pass
    rc=0
    # shellcheck disable=SC2086
    python3 "$here/bench.py" --bin "$bin" --pcre-loop "$loop" --smoke $args || rc=1
    python3 "$here/latency.py" --bin "$bin" --smoke || rc=1
    python3 "$here/soak.py" --bin "$bin" --smoke || rc=1
    exit $rc
fi
# shellcheck disable=SC2086
exec python3 "$here/bench.py" --bin "$bin" --pcre-loop "$loop" $args

#!/bin/bash
# bench/compare.sh: do two logwarden binaries give byte-identical output on every fixture?
#
#   bench/compare.sh OLD_BIN NEW_BIN
#
# For a change that must not change behaviour (a refactor): runs `logwarden test` on every rule
# test file under tests/rules, and `logwarden replay` of every log fixture under tests/rules/fixtures
# and tests/data through the shipped rules.d as each input and format (web, auth, syslog, json,
# docker, cri), with both binaries, and compares stdout, stderr (timings masked) and exit codes.
# Prints each difference and "N compared, M transitions, K differ"; exit 1 when any differ. The
# benchmark's own corpora are compared by bench/run.sh, which prints each replay's sha256.
set -u
A=$1 B=$2
R=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0 n=0
cat > "$T/cfg.yaml" <<Y
state: $T/x.db
rules: [$R/rules.d/*.yaml]
inputs:
  - {name: web, type: file, paths: [$T/none.log]}
  - {name: auth, type: file, paths: [$T/none2.log]}
  - {name: syslog, type: syslog, listen: [udp://127.0.0.1:0]}
  - {name: app, type: file, paths: [$T/none3.log], format: json}
sinks: [{name: console, type: stdout}]
Y
: > "$T/trans"
run() { # what, then the arguments of both binaries
    n=$((n + 1))
    local what=$1
    shift
    for x in a b; do
        local bin=$A
        [ $x = b ] && bin=$B
        (cd "$R" && "$bin" "$@" > "$T/$x.out" 2> "$T/$x.err"; echo "exit $?" >> "$T/$x.out")
        sed -E 's/ in [0-9.]+s,/ in Xs,/' "$T/$x.err" >> "$T/$x.out"
    done
    grep -h '^{' "$T/a.out" >> "$T/trans"
    if ! cmp -s "$T/a.out" "$T/b.out"; then
        echo "DIFF $what"
        diff "$T/a.out" "$T/b.out" | head -5
        fail=$((fail + 1))
    fi
}
now="--now 2024-06-01T00:00:00Z"
for f in "$R"/tests/rules/*.test.yaml "$R"/tests/rules/examples/*.test.yaml; do
    run "test $f" test "$f"
done
while IFS= read -r f; do
    for inp in web auth syslog app; do
        run "replay --input $inp $f" replay -c "$T/cfg.yaml" --input $inp $now "$f"
    done
    for fmt in docker cri; do
        run "replay --format $fmt $f" replay -c "$T/cfg.yaml" --input app --format $fmt $now "$f"
    done
done < <(find "$R/tests/rules/fixtures" "$R/tests/data" -type f ! -name '*.py' ! -name '*.md' \
         ! -name LICENSE | sort)
echo "$n compared, $(wc -l < "$T/trans") transitions, $fail differ"
[ $fail = 0 ]

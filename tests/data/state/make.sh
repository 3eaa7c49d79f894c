#!/bin/sh
# make.sh: rebuilds the state-file fixtures of every earlier schema version with the logwarden
# that wrote that version (README.md here says what each file holds and why).
#
# usage: tests/data/state/make.sh [VERSION...]      (default: 1 2 3 4 5; run from the repository)
#   LW_OLD_BUILD=DIR  reuse DIR/vN (a detached worktree of that version's commit, built in
#                     DIR/vN/build) instead of making and removing a temporary one
#
# For each version N: a detached git worktree of the last commit of main whose code wrote
# schema N, `cmake --build --target logwarden` in it, then with that binary:
#   state-vN-empty.db  a daemon started on an empty log and stopped (SIGTERM) at once;
#   state-vN.db        a daemon run on app.log until DbDown fired for host=a (3 lines) with
#                      one line of host=b below the threshold, stopped with SIGTERM; sinks: a
#                      file (delivered: a sent outbox row) and a webhook on a closed port (a
#                      pending outbox row); from version 2 on, a silence added afterwards.
# The files are checkpointed out of WAL and VACUUMed (512-byte pages), so each is one small file.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)

# The last commit on main's first-parent line whose store/store.h says LW_STORE_SCHEMA_VERSION N.
commit_of() {
    case $1 in
    1) echo ae2813f7e7c2ae323e5c366a1615a58ca65747ce ;;
    2) echo fe0b5600a1377a742409b9b8fd5ae656bc6ea95a ;;
    3) echo d209685ef5a274c4cf854422321033949be449ba ;;
    4) echo 5b0f6c8cc671a19b63f9c217a9fb6431eaa442a4 ;;
    5) echo 1bc4b6369befbde4d94cd68ded3aeb9f3b76cce4 ;;
    *) echo "make.sh: no shipped schema version $1" >&2; exit 2 ;;
    esac
}

# Waits up to 30 s for a file to contain a string.
wait_for() {
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le 300 ] || { echo "make.sh: '$2' never appeared in $1" >&2; return 1; }
        sleep 0.1
    done
}

# Copies the state file out of WAL into one small file.
settle() {
    python3 - "$1" "$2" <<'EOF'
import sqlite3, sys
src = sqlite3.connect(sys.argv[1])
src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
dst = sqlite3.connect(sys.argv[2])
src.backup(dst)
src.close()
dst.execute("PRAGMA journal_mode = DELETE")
dst.execute("PRAGMA page_size = 512")  # a physical detail, not the schema: KBs, not 80 KB
dst.execute("VACUUM")
dst.close()
EOF
}

config() { # DIR STATE
    cat <<EOF
state: $2
rules: [$1/rules.yaml]
inputs:
  - name: app
    type: file
    paths: [$1/app.log]
    start_at: beginning
sinks:
  - name: out
    type: file
    path: $1/alerts.jsonl
  - name: down
    type: webhook
    url: http://127.0.0.1:9/hook
notify: {group_wait: 0s}
EOF
}

RULES='events:
  - name: dberr
    match: '"'"'^ERROR (?<host>\S+) db down$'"'"'
alerts:
  - name: DbDown
    event: dberr
    window: 10m
    group_by: [host]
    count: {above: 2}
'

make_one() {
    n=$1
    c=$(commit_of "$n")
    if [ -n "${LW_OLD_BUILD:-}" ]; then
        src=$LW_OLD_BUILD/v$n
    else
        src=$(mktemp -d)/v$n
        git -C "$repo" worktree add --detach "$src" "$c" >/dev/null
    fi
    [ "$(git -C "$src" rev-parse HEAD)" = "$c" ] || { echo "make.sh: $src is not $c" >&2; exit 1; }
    if [ ! -x "$src/build/logwarden" ]; then
        cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLW_WERROR=OFF >/dev/null
        cmake --build "$src/build" -j2 --target logwarden >/dev/null
    fi
    bin=$src/build/logwarden
    w=$(mktemp -d)
    printf '%s' "$RULES" >"$w/rules.yaml"

    # Empty: started and stopped with nothing to read.
    : >"$w/app.log"
    config "$w" "$w/empty.db" >"$w/empty.yaml"
    "$bin" run -c "$w/empty.yaml" 2>"$w/empty.err" &
    pid=$!
    wait_for "$w/empty.err" running
    kill -TERM $pid
    wait $pid
    settle "$w/empty.db" "$here/state-v$n-empty.db"

    # Populated: DbDown fires for host=a; host=b stays below; one pending webhook row.
    printf 'ERROR a db down\nERROR a db down\nERROR b db down\nERROR a db down\n' >"$w/app.log"
    config "$w" "$w/full.db" >"$w/full.yaml"
    "$bin" run -c "$w/full.yaml" 2>"$w/full.err" &
    pid=$!
    wait_for "$w/alerts.jsonl" firing
    sleep 2 # a flush (once a second) after the transition, and a webhook attempt
    kill -TERM $pid
    wait $pid || true
    if [ "$n" -ge 2 ]; then
        "$bin" silence add -c "$w/full.yaml" host=quiet --for 2000h --comment "upgrade fixture" \
            >/dev/null
    fi
    settle "$w/full.db" "$here/state-v$n.db"
    echo "v$n: $c: $(wc -c <"$here/state-v$n-empty.db") + $(wc -c <"$here/state-v$n.db") bytes"
    rm -rf "$w"
    if [ -z "${LW_OLD_BUILD:-}" ]; then
        git -C "$repo" worktree remove --force "$src"
        rmdir "$(dirname "$src")"
    fi
}

for n in ${*:-1 2 3 4 5}; do
    make_one "$n"
done

#!/usr/bin/env bash
# Run the same IMAP load against the example server on the Maildir store, on
# the PostgreSQL store with one node, and on the PostgreSQL store with two
# nodes sharing one database, and print commands/s and p99 for each.
#
#   scripts/pg-compare.sh [--clients N] [--duration SECS] [--message-size BYTES]
#                         [--pg-set 'name=value']...
#
# Defaults: 16 clients, 20 s each, 2048-byte messages. Builds
# `examples/imap-server` and `examples/imap-load` in release mode; makes a
# private PostgreSQL cluster (initdb in a temporary directory, trust
# authentication, loopback port in 25000-25999, run as `postgres` or `nobody`
# through runuser when we are root) with PostgreSQL's default settings
# (fsync and synchronous_commit on, as durable as the Maildir store's fsyncs)
# unless --pg-set says otherwise; then, each on fresh storage:
#   maildir   one server, --store maildir, N clients (users load1..loadN)
#   pg-1      one server, --store postgres://..., N clients
#   pg-2      two servers on one database, N/2 clients on each (users
#             a1..a(N/2) on node 1, b1..b(N/2) on node 2), run at once
# For pg-2, commands/s is the sum of both nodes and p99 the larger of the two.
# The last line printed is one JSON object with all three results.
# Needs: cargo, python3, PostgreSQL's initdb/pg_ctl (Debian: apt-get install
# postgresql; found on PATH or under /usr/lib/postgresql/*/bin).
set -euo pipefail
cd "$(dirname "$0")/.."

clients=16
duration=20
message_size=2048
pg_set=()
while [ $# -gt 0 ]; do
    case $1 in
        --clients) clients=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --message-size) message_size=$2; shift 2 ;;
        --pg-set) pg_set+=("-c $2"); shift 2 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "pg-compare: unknown argument $1" >&2; exit 2 ;;
    esac
done
half=$(( (clients + 1) / 2 ))

log() { printf '\n==> %s\n' "$*" >&2; }

# --- PostgreSQL binaries ---------------------------------------------------------
pg_bin=""
if command -v initdb >/dev/null 2>&1; then
    pg_bin=$(dirname "$(readlink -f "$(command -v initdb)")")
fi
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/pg_ctl" ]; then
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || {
    echo "pg-compare: PostgreSQL is not installed (apt-get install -y postgresql)" >&2
    exit 1
}

log "building imap-server and imap-load (release)"
cargo build --release --example imap-server --example imap-load >&2
target_dir=$(cargo metadata --format-version 1 --no-deps 2>/dev/null \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null \
    || echo target)
server_bin=$target_dir/release/examples/imap-server
load_bin=$target_dir/release/examples/imap-load

work=$(mktemp -d "${TMPDIR:-/tmp}/pg-compare.XXXXXX")
chmod 755 "$work"
as_pg=()
if [ "$(id -u)" = 0 ]; then
    pg_user=postgres
    id "$pg_user" >/dev/null 2>&1 || pg_user=nobody
    as_pg=(runuser -u "$pg_user" --)
    mkdir -p "$work/pg"
    chown "$pg_user:" "$work/pg"
fi
server_pids=()
pg_started=""
cleanup() {
    for p in ${server_pids[@]+"${server_pids[@]}"}; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ -n "$pg_started" ]; then
        ${as_pg[@]+"${as_pg[@]}"} "$pg_bin/pg_ctl" stop -D "$work/pg/data" -m fast >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pg_port() { # a free port in 25000-25999
    python3 - <<'PY'
import os, socket
for i in range(1000):
    p = 25000 + (os.getpid() * 7919 + i) % 1000
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()
PY
}

wait_greeting() { # PORT: until the server sends its "* OK" greeting
    for _ in $(seq 1 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1" && IFS= read -r -t 5 line <&3 \
            && [ "${line#\* OK}" != "$line" ]) 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# --- the cluster -------------------------------------------------------------------
mkdir -p "$work/pg"
port=$(pg_port)
log "initdb and start PostgreSQL ($pg_bin) on 127.0.0.1:$port"
${as_pg[@]+"${as_pg[@]}"} "$pg_bin/initdb" -D "$work/pg/data" -U imaprs -A trust -E UTF8 \
    --locale=C >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; exit 1; }
${as_pg[@]+"${as_pg[@]}"} "$pg_bin/pg_ctl" start -w -D "$work/pg/data" -l "$work/pg/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $work/pg -c max_connections=200 ${pg_set[*]-}" \
    >&2 || { cat "$work/pg/server.log" >&2; exit 1; }
pg_started=1

createdb() { # NAME
    ${as_pg[@]+"${as_pg[@]}"} "$pg_bin/createdb" -h "$work/pg" -p "$port" -U imaprs "$1"
}

last_port=""
start_server() { # LABEL STORE USER-PREFIX N: start one server; its port in $last_port
    local p tp args=()
    p=$(free_port); tp=$(free_port)
    for i in $(seq 1 "$4"); do args+=(--user "$3$i:pass"); done
    RUST_LOG=${RUST_LOG:-warn} "$server_bin" --listen "127.0.0.1:$p" --tls-listen "127.0.0.1:$tp" \
        --data "$work/$1" --store "$2" "${args[@]}" >"$work/$1.log" 2>&1 &
    server_pids+=($!)
    wait_greeting "$p" || { cat "$work/$1.log" >&2; echo "pg-compare: $1 did not start" >&2; exit 1; }
    last_port=$p
}

stop_servers() {
    for p in ${server_pids[@]+"${server_pids[@]}"}; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    server_pids=()
}

run_load() { # LABEL PORT USER-PATTERN N
    "$load_bin" --server "127.0.0.1:$2" --label "$1" --user "$3" --password pass --clients "$4" \
        --duration "$duration" --message-size "$message_size" \
        >"$work/$1.out" 2>"$work/$1.err" || echo "pg-compare: imap-load reported errors against $1" >&2
    cat "$work/$1.err" >&2
    cat "$work/$1.out" >&2
}

# maildir
log "load: maildir, $clients clients x ${duration} s"
start_server maildir maildir load "$clients"
run_load maildir "$last_port" 'load%d' "$clients"
stop_servers

# PostgreSQL, one node
createdb one
url1="postgres://imaprs@127.0.0.1:$port/one"
log "load: pg-1 (one node), $clients clients x ${duration} s"
start_server pg1 "$url1" load "$clients"
run_load pg-1 "$last_port" 'load%d' "$clients"
stop_servers

# PostgreSQL, two nodes on one database
createdb two
url2="postgres://imaprs@127.0.0.1:$port/two"
log "load: pg-2 (two nodes, one database), $half + $half clients x ${duration} s"
start_server pg2a "$url2" a "$half"
pa=$last_port
start_server pg2b "$url2" b "$half"
pb=$last_port
run_load pg-2a "$pa" 'a%d' "$half" &
la=$!
run_load pg-2b "$pb" 'b%d' "$half" &
lb=$!
wait "$la" "$lb"
stop_servers

log "summary"
WORK=$work python3 - <<'PY'
import json, os
work = os.environ["WORK"]
def load(label):
    lines = [l for l in open(f"{work}/{label}.out") if l.startswith("{")]
    return json.loads(lines[-1]) if lines else None
m, p1, a, b = load("maildir"), load("pg-1"), load("pg-2a"), load("pg-2b")
if not all([m, p1, a, b]):
    raise SystemExit("pg-compare: a run produced no result")
two = {
    "commands_per_sec": a["commands_per_sec"] + b["commands_per_sec"],
    "overall": {"per_sec": a["overall"]["per_sec"] + b["overall"]["per_sec"],
                "p99_ms": max(a["overall"]["p99_ms"], b["overall"]["p99_ms"])},
    "errors": a["errors"] + b["errors"],
    "by_command": {k: {"per_sec": a["by_command"][k]["per_sec"] + b["by_command"][k]["per_sec"],
                       "p99_ms": max(a["by_command"][k]["p99_ms"], b["by_command"][k]["p99_ms"])}
                   for k in a["by_command"]},
}
runs = [("maildir", m), ("pg-1", p1), ("pg-2", two)]
print(f'{"command":<20}' + "".join(f'{n + " /s":>12} {n + " p99":>12}' for n, _ in runs))
for k in ["overall"] + list(m["by_command"]):
    name = "ALL COMMANDS" if k == "overall" else k
    row = f"{name:<20}"
    for _, r in runs:
        v = r["overall"] if k == "overall" else r["by_command"][k]
        row += f'{v["per_sec"]:>12.1f} {v["p99_ms"]:>12.3f}'
    print(row)
print("(commands/s: higher is better; p99 in ms: lower is better; errors " +
      ", ".join(f'{n}={r["errors"]}' for n, r in runs) + ")")
print(json.dumps({"maildir": m, "pg-1": p1, "pg-2": two, "pg-2a": a, "pg-2b": b},
                 separators=(",", ":")))
PY

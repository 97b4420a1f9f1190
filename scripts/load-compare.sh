#!/usr/bin/env bash
# Run the same IMAP load against our example server and against Dovecot, in one
# run, and print both results and the ratio ours/Dovecot.
#
#   scripts/load-compare.sh [--clients N] [--duration SECS] [--message-size BYTES]
#                           [--threads N] [--dovecot-set 'KEY = VALUE']...
#
# Defaults: 16 clients, 20 s each, 2048-byte messages. Builds
# `examples/imap-server` and `examples/imap-load` in release mode, starts our
# server on free loopback ports with users load1..loadN (password "pass"),
# starts a private Dovecot with scripts/dovecot-loopback.sh (any user, password
# "pass"), runs `imap-load --user 'load%d'` against each (ours first), then
# stops both. Every client has its own user and mailbox on both servers, and
# both start empty. Our server keeps mail in memory; Dovecot writes Maildir
# files (and fsyncs them unless given --dovecot-set 'mail_fsync = never').
#
# The last line printed is one JSON object with both results and the ratios.
# Needs: cargo, dovecot (apt-get install dovecot-imapd), python3 (for the ratios).
set -euo pipefail
cd "$(dirname "$0")/.."

clients=16
duration=20
message_size=2048
threads=""
dovecot_set=()
while [ $# -gt 0 ]; do
    case $1 in
        --clients) clients=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --message-size) message_size=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --dovecot-set) dovecot_set+=(--set "$2"); shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "load-compare: unknown argument $1" >&2; exit 2 ;;
    esac
done

log() { printf '\n==> %s\n' "$*" >&2; }

command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || {
    echo "load-compare: dovecot is not installed (apt-get install -y dovecot-imapd)" >&2
    exit 1
}

log "building imap-server and imap-load (release)"
cargo build --release --example imap-server --example imap-load >&2
target_dir=$(cargo metadata --format-version 1 --no-deps 2>/dev/null \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null \
    || echo target)
server_bin=$target_dir/release/examples/imap-server
load_bin=$target_dir/release/examples/imap-load

work=$(mktemp -d "${TMPDIR:-/tmp}/load-compare.XXXXXX")
chmod 755 "$work" # Dovecot's mail user must reach the mail home inside
server_pid=""
dovecot_dir=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ -n "$dovecot_dir" ]; then
        scripts/dovecot-loopback.sh stop "$dovecot_dir" || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_greeting() { # PORT: until the server sends its "* OK" greeting
    for _ in $(seq 1 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1" && IFS= read -r -t 5 line <&3 \
            && [ "${line#\* OK}" != "$line" ]) 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# --- our server ----------------------------------------------------------------
our_port=$(free_port)
our_tls_port=$(free_port)
user_args=()
for i in $(seq 1 "$clients"); do user_args+=(--user "load$i:pass"); done
log "starting our server on 127.0.0.1:$our_port ($clients users)"
RUST_LOG=${RUST_LOG:-warn} "$server_bin" --listen "127.0.0.1:$our_port" \
    --tls-listen "127.0.0.1:$our_tls_port" --data "$work/ours" "${user_args[@]}" \
    >"$work/ours.log" 2>&1 &
server_pid=$!
wait_greeting "$our_port" || { cat "$work/ours.log" >&2; echo "our server did not start" >&2; exit 1; }

# --- Dovecot -------------------------------------------------------------------
log "starting Dovecot"
dv_out=$(scripts/dovecot-loopback.sh --dir "$work/dovecot" ${dovecot_set[@]+"${dovecot_set[@]}"})
eval "$dv_out"
dovecot_dir=$DOVECOT_DIR
wait_greeting "$DOVECOT_PORT" || { echo "dovecot did not start" >&2; exit 1; }

load_args=(--user 'load%d' --password pass --clients "$clients" --duration "$duration"
    --message-size "$message_size")
[ -n "$threads" ] && load_args+=(--threads "$threads")

run_load() { # LABEL PORT
    log "load: $1 (127.0.0.1:$2), $clients clients x ${duration} s"
    "$load_bin" --server "127.0.0.1:$2" --label "$1" "${load_args[@]}" \
        >"$work/$1.out" 2>"$work/$1.err" || echo "load-compare: imap-load reported errors against $1" >&2
    cat "$work/$1.err" >&2
    cat "$work/$1.out"
}

run_load ours "$our_port"
run_load dovecot "$DOVECOT_PORT"

ours_json=$(grep '^{' "$work/ours.out" | tail -1)
dovecot_json=$(grep '^{' "$work/dovecot.out" | tail -1)
if [ -z "$ours_json" ] || [ -z "$dovecot_json" ]; then
    echo "load-compare: a run produced no result" >&2
    exit 1
fi

log "ratio ours/Dovecot"
OURS=$ours_json DOVECOT=$dovecot_json python3 - <<'PY'
import json, os
o = json.loads(os.environ["OURS"])
d = json.loads(os.environ["DOVECOT"])
def ratio(a, b):
    return a / b if b else float("inf")
rows = [("ALL COMMANDS", o["overall"], d["overall"])]
rows += [(k, o["by_command"][k], d["by_command"][k]) for k in o["by_command"]]
print(f'{"command":<20} {"ours/s":>9} {"dovecot/s":>9} {"ratio":>7}   '
      f'{"ours p99":>9} {"dove p99":>9} {"ratio":>7}')
for name, a, b in rows:
    print(f'{name:<20} {a["per_sec"]:>9.1f} {b["per_sec"]:>9.1f} {ratio(a["per_sec"], b["per_sec"]):>7.2f}   '
          f'{a["p99_ms"]:>9.3f} {b["p99_ms"]:>9.3f} {ratio(a["p99_ms"], b["p99_ms"]):>7.2f}')
print(f'(commands/s: higher is better; p99 in ms: lower is better; errors ours={o["errors"]} dovecot={d["errors"]})')
summary = {
    "clients": o["clients"], "duration_s": o["duration_s"], "message_size": o["message_size"],
    "ours": o, "dovecot": d,
    "ratio_commands_per_sec": round(ratio(o["commands_per_sec"], d["commands_per_sec"]), 3),
    "ratio_p99": round(ratio(o["overall"]["p99_ms"], d["overall"]["p99_ms"]), 3),
}
print(json.dumps(summary, separators=(",", ":")))
PY

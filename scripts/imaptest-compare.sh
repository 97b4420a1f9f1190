#!/usr/bin/env bash
# imaptest's stress mix against our example server (release, MaildirStore) and
# against Dovecot 2.3 tuned for speed, alternating, in the same run.
#
#   scripts/imaptest-compare.sh [--secs S] [--rounds R] [--clients C] [--users U]
#                               [--mbox FILE] [--seed N] [--server-arg ARG]...
#
# Defaults: 15 s per run, 2 rounds (ours, Dovecot, ours, Dovecot), 10 clients,
# 99 users (bench1..bench99, password "pass"), seed 42, and an mbox of 2,000
# messages of 1-200 KB made by scripts/make-mbox.py. imaptest's default
# command mix, with state tracking on (its default): every line containing
# "Error:" is a reply that contradicts what the other sessions did.
#
# Prints, per run, commands/s (the sum of imaptest's "Totals" row divided by
# the seconds) and the error lines, then the ratio ours / Dovecot of the
# medians. Each --server-arg is passed to our server (e.g. --server-arg
# --store-calls --server-arg inline). Dovecot gets `service_count = 0` and `process_min_avail` for its
# login and imap services (long-lived processes, as ../shared/PEERS.md says).
#
# Needs imaptest on PATH (../shared/tools/build-imaptest.sh builds it; it is
# not packaged in Debian) and dovecot (apt-get install dovecot-imapd). Without
# them it says so and exits 0, so CI stays green.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=15
rounds=2
clients=10
users=99
mbox=""
seed=42
server_args=()
while [ $# -gt 0 ]; do
    case $1 in
        --secs) secs=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --users) users=$2; shift 2 ;;
        --mbox) mbox=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --server-arg) server_args+=("$2"); shift 2 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "imaptest-compare: unknown argument $1" >&2; exit 2 ;;
    esac
done

log() { printf 'imaptest-compare: %s\n' "$*" >&2; }

if ! command -v imaptest >/dev/null 2>&1; then
    log "imaptest is not on PATH (build it with ../shared/tools/build-imaptest.sh); nothing measured"
    exit 0
fi
if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then
    log "dovecot is not installed (apt-get install dovecot-imapd); nothing measured"
    exit 0
fi

log "building imap-server (release)"
cargo build --release --example imap-server >&2
target_dir=$(cargo metadata --format-version 1 --no-deps 2>/dev/null \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null \
    || echo target)
server_bin=$target_dir/release/examples/imap-server

work=$(mktemp -d "${TMPDIR:-/tmp}/imaptest-compare.XXXXXX")
chmod 755 "$work"
server_pid=""
dovecot_dir=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ -n "$dovecot_dir" ]; then
        scripts/dovecot-loopback.sh stop "$dovecot_dir" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ -z "$mbox" ]; then
    mbox=$work/stress.mbox
    log "making a 2,000-message mbox (scripts/make-mbox.py, seed $seed)"
    python3 scripts/make-mbox.py --seed "$seed" "$mbox"
fi

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Our server: users bench1..benchN with password "pass".
users_file=$work/users
for i in $(seq 1 "$users"); do echo "bench$i:{PLAIN}pass"; done >"$users_file"
ours_port=$(free_port)
"$server_bin" --listen "127.0.0.1:$ours_port" --tls-listen "127.0.0.1:$(free_port)" \
    --data "$work/ours" --users "$users_file" --max-connections 10000 \
    ${server_args[@]+"${server_args[@]}"} >"$work/ours.log" 2>&1 &
server_pid=$!

# Dovecot, tuned for speed.
# (Its output goes to a file: inside $(...) the shell would wait for
# Dovecot, which keeps the captured stdout open.)
scripts/dovecot-loopback.sh start --dir "$work/dovecot" \
    --set 'service imap-login {
  service_count = 0
  process_min_avail = 2
}' --set 'service imap {
  service_count = 0
  process_min_avail = 4
}' >"$work/dovecot.env"
# shellcheck disable=SC1091
. "$work/dovecot.env"
dovecot_dir=$DOVECOT_DIR

for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$ours_port") 2>/dev/null && break
    sleep 0.1
done

run() { # label port round
    local out=$work/$1.$3.txt
    imaptest host=127.0.0.1 port="$2" user='bench%d' users="$users" pass=pass \
        mbox="$mbox" clients="$clients" secs="$secs" seed="$seed" >"$out" 2>&1 || true
    local total errors
    # The row of counts after "Totals:" (the rows above it are names and
    # percentages).
    total=$(awk '/^Totals:/{t=1; next} t && /^ *[0-9]/ && !/%/{s=0; for(i=1;i<=NF;i++) s+=$i; print s; exit}' "$out")
    errors=$(grep -c 'Error:' "$out" || true)
    local rate
    rate=$(python3 -c "print(round(${total:-0} / $secs))")
    printf '%-8s round %s: %6s commands/s, %s error lines\n' "$1" "$3" "$rate" "$errors"
    echo "$1 $rate $errors" >>"$work/results"
}

for r in $(seq 1 "$rounds"); do
    run ours "$ours_port" "$r"
    run dovecot "$DOVECOT_PORT" "$r"
done

python3 - "$work/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {k: statistics.median(int(r[1]) for r in rows if r[0] == k) for k in ("ours", "dovecot")}
errs = {k: sum(int(r[2]) for r in rows if r[0] == k) for k in ("ours", "dovecot")}
print(f"median commands/s: ours {med['ours']}, Dovecot {med['dovecot']}; "
      f"ratio ours/Dovecot {med['ours'] / max(med['dovecot'], 1):.2f}x; "
      f"error lines: ours {errs['ours']}, Dovecot {errs['dovecot']}")
PY
if ! (exec 3<>"/dev/tcp/127.0.0.1/$ours_port") 2>/dev/null; then
    echo "our server no longer answers" >&2
    exit 1
fi

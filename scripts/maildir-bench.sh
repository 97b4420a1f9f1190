#!/usr/bin/env bash
# Big-folder benchmark: our examples/imap-server (MaildirStore) against Dovecot,
# both serving a copy of the same generated Maildir INBOX, in the same run.
#
#   scripts/maildir-bench.sh [--messages N] [--repeat K] [--keep]
#
# Generates N small messages (default 100000; varied From/To/Subject/Date,
# 1-3 KB bodies, about 60% with :2,S, 5% :2,FS, 1% left in new/) once, copies
# them to DATA/mail/bench/ for our server and to HOME/Maildir/ for a private
# Dovecot (scripts/dovecot-loopback.sh, mail owned by its mail user), starts
# both, runs examples/maildir-bench against each (cold SELECT, warm SELECT,
# UID FETCH 1:* (FLAGS), SEARCH UNSEEN, FETCH 1:* (ENVELOPE)), prints both
# tables and the ratios ours/Dovecot, and stops both. --keep leaves the work
# directory in place. Needs dovecot (apt-get install dovecot-imapd) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

messages=100000
repeat=3
keep=""
while [ $# -gt 0 ]; do
    case $1 in
        --messages) messages=$2; shift 2 ;;
        --repeat) repeat=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "maildir-bench: unknown argument $1" >&2; exit 2 ;;
    esac
done

log() { printf 'maildir-bench: %s\n' "$*" >&2; }

log "building imap-server and maildir-bench (release)"
cargo build --release --example imap-server --example maildir-bench >&2
target_dir=$(cargo metadata --format-version 1 --no-deps 2>/dev/null \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null \
    || echo target)
server_bin=$target_dir/release/examples/imap-server
bench_bin=$target_dir/release/examples/maildir-bench

work=$(mktemp -d "${TMPDIR:-/tmp}/maildir-bench.XXXXXX")
chmod 755 "$work" # Dovecot's mail user must reach the mail home inside
server_pid=""
dovecot_dir=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ -n "$dovecot_dir" ]; then
        scripts/dovecot-loopback.sh stop "$dovecot_dir" --keep || true
    fi
    if [ -z "$keep" ]; then rm -rf "$work"; else log "kept $work"; fi
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
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

# --- generate the Maildir once -------------------------------------------------
log "generating $messages messages"
started=$(date +%s.%N)
python3 - "$work/src" "$messages" <<'PY'
import os, random, sys, time
root, n = sys.argv[1], int(sys.argv[2])
for d in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(root, d), exist_ok=True)
rnd = random.Random(20240101)
first = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan",
         "Judy", "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent",
         "Victor", "Walter", "Zoë"]
last = ["Smith", "Jones", "Müller", "García", "Rossi", "Novak", "Kowalski", "Chen",
        "Tanaka", "Okafor", "Dubois", "Silva", "Larsen", "O'Brien"]
domains = ["example.org", "example.com", "mail.example.net", "lists.example.edu",
           "corp.example.co.uk"]
topics = ["quarterly report", "lunch on Friday?", "build failure on main",
          "invoice #{n}", "meeting notes", "re: the proposal", "holiday plans",
          "security advisory", "password reset", "weekly digest", "PR #{n} review",
          "travel itinerary", "your order has shipped", "draft for comments",
          "=?UTF-8?Q?Caf=C3=A9_menu?=", "=?UTF-8?B?0J/RgNC40LLQtdGC?="]
words = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod "
         "tempor incididunt ut labore et dolore magna aliqua ut enim ad minim veniam "
         "quis nostrud exercitation ullamco laboris nisi aliquip ex ea commodo "
         "consequat mailbox folder server index message header envelope").split()
days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
          "Nov", "Dec"]
def person():
    f, l = rnd.choice(first), rnd.choice(last)
    addr = f"{f.lower()}.{l.lower()}@{rnd.choice(domains)}".replace("'", "")
    addr = addr.encode("ascii", "ignore").decode()
    return f'"{f} {l}" <{addr}>' if rnd.random() < 0.3 else f"{f} {l} <{addr}>"
base = int(time.time()) - n * 60
pid = os.getpid()
for i in range(n):
    t = base + i * 60 + rnd.randrange(60)
    tm = time.gmtime(t)
    date = (f"{days[tm.tm_wday]}, {tm.tm_mday:02d} {months[tm.tm_mon - 1]} "
            f"{tm.tm_year} {tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} "
            f"{rnd.choice(['+0000', '-0500', '+0100', '+0900'])}")
    subj = rnd.choice(topics).replace("{n}", str(rnd.randrange(1, 99999)))
    to = ", ".join(person() for _ in range(rnd.choice([1, 1, 1, 2, 3])))
    hdr = [f"Return-Path: <bounce-{i}@{rnd.choice(domains)}>",
           f"Received: from mx{rnd.randrange(9)}.example.net by mail.example.org; {date}",
           f"Message-ID: <{i}.{t}@bench.example.org>",
           f"Date: {date}", f"From: {person()}", f"To: {to}"]
    if rnd.random() < 0.2:
        hdr.append(f"Cc: {person()}")
    if rnd.random() < 0.3:
        hdr.append(f"In-Reply-To: <{rnd.randrange(max(i, 1))}.0@bench.example.org>")
    hdr += [f"Subject: {subj}", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    size = rnd.randrange(1000, 3000)
    body, length = [], 0
    while length < size:
        line = " ".join(rnd.choice(words) for _ in range(rnd.randrange(6, 14)))
        body.append(line)
        length += len(line) + 1
    data = ("\n".join(hdr) + "\n\n" + "\n".join(body) + "\n").encode("utf-8")
    r = rnd.random()
    if i >= n - max(1, n // 100):
        sub, info = "new", ""                 # just delivered
    elif r < 0.05:
        sub, info = "cur", ":2,FS"
    elif r < 0.65:
        sub, info = "cur", ":2,S"
    else:
        sub, info = "cur", ":2,"
    name = f"{t}.M{i}P{pid}.bench,S={len(data)}{info}"
    with open(os.path.join(root, sub, name), "wb") as fh:
        fh.write(data)
PY
log "generated in $(python3 -c "import time; print(round(time.time() - $started, 1))") s ($(du -sh "$work/src" | cut -f1))"

# --- copies for both servers -----------------------------------------------------
mkdir -p "$work/ours/mail" "$work/dovecot/home/bench"
cp -a "$work/src" "$work/ours/mail/bench"
cp -a "$work/src" "$work/dovecot/home/bench/Maildir"
if [ "$(id -u)" = 0 ]; then
    chown -R mail:mail "$work/dovecot/home"
fi
rm -rf "$work/src"
sync
log "copied to $work/ours/mail/bench and $work/dovecot/home/bench/Maildir"

# --- servers ----------------------------------------------------------------------
our_port=$(free_port)
our_tls_port=$(free_port)
log "starting our server on 127.0.0.1:$our_port"
RUST_LOG=${RUST_LOG:-warn} "$server_bin" --listen "127.0.0.1:$our_port" \
    --tls-listen "127.0.0.1:$our_tls_port" --data "$work/ours" --user bench:pass \
    >"$work/ours.log" 2>&1 &
server_pid=$!
wait_greeting "$our_port" || { cat "$work/ours.log" >&2; echo "our server did not start" >&2; exit 1; }

log "starting Dovecot"
dv_out=$(scripts/dovecot-loopback.sh --dir "$work/dovecot")
eval "$dv_out"
dovecot_dir=$DOVECOT_DIR
wait_greeting "$DOVECOT_PORT" || { echo "dovecot did not start" >&2; exit 1; }

# --- runs -------------------------------------------------------------------------
status=0
run_bench() { # LABEL PORT OUTFILE
    log "benchmark: $1 (127.0.0.1:$2), $messages messages, repeat $repeat"
    "$bench_bin" --server "127.0.0.1:$2" --user bench --password pass \
        --repeat "$repeat" --expect "$messages" --label "$1" | tee "$3" || status=1
}
run_bench ours "$our_port" "$work/ours.out"
run_bench dovecot "$DOVECOT_PORT" "$work/dovecot.out"

# --- comparison -------------------------------------------------------------------
python3 - "$work/ours.out" "$work/dovecot.out" "$messages" <<'PY' || status=1
import json, sys
def last_json(path):
    lines = [l for l in open(path) if l.startswith("{")]
    if not lines:
        sys.exit(f"maildir-bench: no result in {path}")
    return json.loads(lines[-1])
ours, dove = last_json(sys.argv[1]), last_json(sys.argv[2])
print()
print(f"N = {sys.argv[3]} messages; times in ms (first run / median of the rest);"
      " ratio = ours / Dovecot (below 1: we are faster)")
hdr = f"{'command':<24} {'ours first':>11} {'ours med':>10} {'dovecot first':>14} {'dovecot med':>12} {'ratio first':>12} {'ratio med':>10}"
print(hdr)
print("-" * len(hdr))
for name, o in ours["results"].items():
    d = dove["results"][name]
    rf = o["first_ms"] / d["first_ms"] if d["first_ms"] else float("inf")
    rm = o["median_rest_ms"] / d["median_rest_ms"] if d["median_rest_ms"] else float("inf")
    print(f"{name:<24} {o['first_ms']:>11.1f} {o['median_rest_ms']:>10.1f} "
          f"{d['first_ms']:>14.1f} {d['median_rest_ms']:>12.1f} {rf:>12.2f} {rm:>10.2f}")
if ours["unseen"] != dove["unseen"]:
    print(f"WARNING: unseen counts differ: ours {ours['unseen']}, dovecot {dove['unseen']}")
else:
    print(f"both servers: {ours['messages']} messages, {ours['unseen']} unseen")
PY
exit $status

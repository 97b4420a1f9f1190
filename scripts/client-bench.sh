#!/usr/bin/env bash
# The client benchmark: fetch the headers of a 10,000-message mailbox from
# Dovecot with our client (imap-client-core + imap-client's tokio driver) and with
# the async-imap crate, in the same run; print the time of each and the ratio.
#
#   scripts/client-bench.sh [--messages N] [--runs N] [--warmup N] [--keep]
#
# --keep leaves Dovecot and its mail running afterwards (to profile one client:
# client-compare one --client ours --port PORT --user bench --password pass).
#
# Defaults: 10,000 messages, 5 runs of each client after 1 warm-up round.
# Steps:
#   1. builds benches/client-compare in release mode, in its own target
#      directory (CARGO_TARGET_DIR, default /work/target-client-bench if /work
#      exists, else target-client-bench): that package is outside the
#      workspace, so CI never compiles async-imap;
#   2. starts a private Dovecot on loopback (scripts/dovecot-loopback.sh, with
#      mail_fsync = never);
#   3. writes N messages (1-4 KB each, varied realistic headers, fixed seed)
#      straight into the Maildir of user "bench" (owned by the mail user), and
#      lets Dovecot index them once (doveadm index, or the warm-up round);
#   4. runs `client-compare`: each run is its own process (connect, LOGIN,
#      SELECT INBOX, UID FETCH 1:* (UID BODY.PEEK[HEADER]) with every header
#      kept in memory, LOGOUT), the clients alternating; every run must see the
#      same N UIDs, header bytes and (UID, header) digest. It prints per-run
#      wall times and peak RSS, the medians and the ratio async-imap / ours.
# Needs: cargo, dovecot (apt-get install dovecot-imapd), python3.
set -euo pipefail
cd "$(dirname "$0")/.."

messages=10000
runs=5
warmup=1
keep=""
while [ $# -gt 0 ]; do
    case $1 in
        --messages) messages=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --keep) keep=1; shift ;; # leave Dovecot running (for profiling)
        -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
        *) echo "client-bench: unknown argument $1" >&2; exit 2 ;;
    esac
done

log() { printf '\n==> %s\n' "$*" >&2; }

command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || {
    echo "client-bench: dovecot is not installed (apt-get install -y dovecot-imapd)" >&2
    exit 1
}

if [ -z "${CARGO_TARGET_DIR:-}" ]; then
    if [ -d /work ]; then CARGO_TARGET_DIR=/work/target-client-bench; else CARGO_TARGET_DIR=$PWD/target-client-bench; fi
fi
export CARGO_TARGET_DIR
log "building benches/client-compare (release, target dir $CARGO_TARGET_DIR)"
(cd benches/client-compare && cargo build --release >&2)
bench_bin=$CARGO_TARGET_DIR/release/client-compare

work=$(mktemp -d "${TMPDIR:-/tmp}/client-bench.XXXXXX")
chmod 755 "$work" # Dovecot's mail user must reach the mail home inside
dovecot_dir=""
cleanup() {
    if [ -n "$dovecot_dir" ] && [ -z "$keep" ]; then
        scripts/dovecot-loopback.sh stop "$dovecot_dir" || true
    fi
    [ -n "$keep" ] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

log "starting Dovecot"
# Dovecot's stderr goes to a file: the daemon keeps it open, and a pipe on this
# script's stderr would never close with --keep.
dv_out=$(scripts/dovecot-loopback.sh --dir "$work/dovecot" --set 'mail_fsync = never' \
    2>"$work/dovecot-start.log") || { cat "$work/dovecot-start.log" >&2; exit 1; }
eval "$dv_out"
dovecot_dir=$DOVECOT_DIR

user=bench
maildir=$DOVECOT_DIR/home/$user/Maildir
log "writing $messages messages into $maildir"
python3 - "$maildir" "$messages" <<'PY'
import os, random, sys, time

maildir, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(20261122)
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(maildir, sub), exist_ok=True)

first = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan",
         "Judy", "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent",
         "Victor", "Walter", "Zoë", "José", "Łukasz", "Søren", "Ines"]
last = ["Smith", "Jones", "Müller", "García", "Rossi", "Dubois", "Nakamura", "Kowalski",
        "O'Brien", "van der Berg", "Nguyen", "Andersson", "Silva", "Ivanova"]
domains = ["example.org", "example.com", "mail.example.net", "lists.example.org",
           "corp.example", "university.example.edu"]
words = ("meeting agenda report quarterly budget review draft proposal release notes "
         "invoice payment reminder update schedule travel plans project status feedback "
         "question about the server migration backup failed weekly summary minutes "
         "contract signature urgent follow-up lunch friday build broken patch series "
         "conference talk slides newsletter issue announcement security advisory").split()
lists = ["dev.lists.example.org", "announce.example.com", "users.example.net", None, None, None]
mailers = ["Mutt/2.2.9", "Thunderbird 115.4", "Apple Mail (2.3731)", "Microsoft Outlook 16.0",
           "K-9 Mail", "Roundcube Webmail/1.6.5", None]

def b64word(s):
    import base64
    return "=?UTF-8?B?" + base64.b64encode(s.encode()).decode() + "?="

def display(name):
    if any(ord(c) > 127 for c in name):
        return b64word(name)
    if "'" in name or " " in name.split(" ", 1)[-1]:
        return '"' + name + '"'
    return name

def person():
    f, l = rng.choice(first), rng.choice(last)
    local = (f + "." + l).lower().replace(" ", "").replace("'", "")
    local = local.encode("ascii", "ignore").decode() or "user"
    return f"{display(f + ' ' + l)} <{local}@{rng.choice(domains)}>"

def fold(name, value, width=76):
    out, line = [], name + ":"
    for token in value.split(" "):
        if len(line) + 1 + len(token) > width and line.strip():
            out.append(line)
            line = "\t" + token
        else:
            line += " " + token
    out.append(line)
    return "\r\n".join(out)

days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
base = 1_700_000_000
total = 0
host = "bench.example"
for n in range(1, count + 1):
    t = base + n * 397 + rng.randrange(300)
    tm = time.gmtime(t)
    date = f"{days[tm.tm_wday]}, {tm.tm_mday} {months[tm.tm_mon - 1]} {tm.tm_year} {tm.tm_hour:02}:{tm.tm_min:02}:{tm.tm_sec:02} +0000"
    frm = person()
    subject = " ".join(rng.choice(words) for _ in range(rng.randint(2, 9))).capitalize()
    r = rng.random()
    if r < 0.25:
        subject = "Re: " + subject
    elif r < 0.32:
        subject = "Fwd: " + subject
    elif r < 0.40:
        subject = b64word("Über " + subject + " ✓")
    h = []
    for hop in range(rng.randint(1, 4)):
        h.append(fold("Received", f"from mx{hop}.{rng.choice(domains)} (mx{hop}.{rng.choice(domains)} "
                      f"[192.0.2.{rng.randrange(1, 255)}]) by {host} with ESMTPS id {rng.getrandbits(48):012x} "
                      f"for <bench@{host}>; {date}"))
    if rng.random() < 0.5:
        sig = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(344))
        h.append(fold("DKIM-Signature", f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={rng.choice(domains)}; "
                      f"s=sel{rng.randrange(9)}; h=from:to:subject:date:message-id; "
                      f"bh={sig[:44]}=; b={' '.join(sig[i:i + 60] for i in range(0, len(sig), 60))}"))
    h.append("Date: " + date)
    h.append("From: " + frm)
    h.append(fold("To", ", ".join(person() for _ in range(rng.randint(1, 3)))))
    if rng.random() < 0.4:
        h.append(fold("Cc", ", ".join(person() for _ in range(rng.randint(1, 2)))))
    h.append(fold("Subject", subject))
    h.append(f"Message-ID: <{rng.getrandbits(64):016x}.{n}@{rng.choice(domains)}>")
    if subject.startswith("Re:") and n > 1:
        parent = f"<{rng.getrandbits(64):016x}.{rng.randrange(1, n)}@{rng.choice(domains)}>"
        h.append("In-Reply-To: " + parent)
        h.append(fold("References", parent))
    lst = rng.choice(lists)
    if lst:
        h.append(f"List-Id: <{lst}>")
        h.append(f"List-Unsubscribe: <mailto:unsubscribe@{lst}>")
    m = rng.choice(mailers)
    if m:
        h.append("X-Mailer: " + m)
    h.append("MIME-Version: 1.0")
    h.append("Content-Type: text/plain; charset=utf-8; format=flowed")
    h.append("Content-Transfer-Encoding: 8bit")
    header = "\r\n".join(h) + "\r\n\r\n"
    size = rng.randint(1024, 4096)
    body_len = max(40, size - len(header.encode()))
    lines, length = [], 0
    while length < body_len:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(6, 12)))
        lines.append(line)
        length += len(line) + 2
    msg = (header + "\r\n".join(lines) + "\r\n").encode()
    total += len(msg)
    name = f"{t}.M{n}P1.{host},S={len(msg)}:2,{'S' if rng.random() < 0.7 else ''}"
    with open(os.path.join(maildir, "cur", name), "wb") as f:
        f.write(msg)
print(f"{count} messages, {total} bytes, average {total // max(count, 1)} bytes", file=sys.stderr)
PY
if [ "$(id -u)" = 0 ]; then
    chown -R mail:mail "$DOVECOT_DIR/home/$user"
fi
# Let Dovecot index the mailbox once, so the first timed run does not pay for it
# (the warm-up round would do it too).
if doveadm -c "$DOVECOT_CONF" index -u "$user" INBOX >"$work/doveadm.log" 2>&1; then
    echo "indexed by doveadm" >&2
else
    echo "client-bench: doveadm index failed (the warm-up round indexes instead):" >&2
    cat "$work/doveadm.log" >&2
fi

log "running both clients against Dovecot on 127.0.0.1:$DOVECOT_PORT ($warmup warm-up round(s), $runs runs each)"
"$bench_bin" --port "$DOVECOT_PORT" --user "$user" --password pass \
    --runs "$runs" --warmup "$warmup" --expect "$messages"
if [ -n "$keep" ]; then
    echo "client-bench: Dovecot left running on 127.0.0.1:$DOVECOT_PORT (user $user, password pass);" \
        "stop it with: scripts/dovecot-loopback.sh stop $DOVECOT_DIR" >&2
fi

#!/usr/bin/env bash
# Start (or stop) a private Dovecot IMAP server on loopback, for tests and for
# scripts/load-compare.sh. Nothing outside the chosen directory is touched: the
# instance has its own base_dir, state_dir, logs and mail home.
#
#   scripts/dovecot-loopback.sh [start] [--port PORT] [--dir DIR] [--set 'KEY = VALUE']...
#       Starts Dovecot listening on 127.0.0.1:PORT (a free port when not given),
#       plaintext IMAP only (no TLS), any user name with the password "pass".
#       Each --set line is appended to the config (e.g. --set 'mail_fsync = never').
#       Prints three lines to stdout, for `eval` or `read`:
#           DOVECOT_PORT=…
#           DOVECOT_CONF=…
#           DOVECOT_DIR=…
#   scripts/dovecot-loopback.sh stop DIR
#       Stops the instance whose files are in DIR (and removes DIR unless
#       --keep is given after it).
#
# Needs `dovecot` (Debian: apt-get install dovecot-imapd). Dovecot will not store
# mail as root, so mail belongs to the `mail` user (uid 8); run as root or as a
# user allowed to switch to it (when not root, mail_uid is the current user).
set -euo pipefail

die() { printf 'dovecot-loopback: %s\n' "$*" >&2; exit 1; }

free_port() {
    python3 - <<'PY' 2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

find_dovecot() {
    if command -v dovecot >/dev/null 2>&1; then command -v dovecot; return; fi
    for p in /usr/sbin/dovecot /usr/local/sbin/dovecot; do
        [ -x "$p" ] && { echo "$p"; return; }
    done
    die "dovecot is not installed (apt-get install -y dovecot-imapd)"
}

cmd=start
if [ $# -gt 0 ] && [ "$1" = stop ] || [ "${1:-}" = start ]; then cmd=$1; shift; fi

if [ "$cmd" = stop ]; then
    [ $# -ge 1 ] || die "usage: $0 stop DIR [--keep]"
    dir=$1
    keep=${2:-}
    conf=$dir/dovecot.conf
    [ -f "$conf" ] || die "no dovecot.conf in $dir"
    dovecot=$(find_dovecot)
    "$dovecot" -c "$conf" stop 2>/dev/null || true
    # Wait for the master process to go (its pid file lives in base_dir).
    pidfile=$dir/run/master.pid
    for _ in $(seq 1 50); do
        if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            sleep 0.1
        else
            break
        fi
    done
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        kill -9 "$(cat "$pidfile")" 2>/dev/null || true
    fi
    if [ "$keep" != --keep ]; then rm -rf "$dir"; fi
    exit 0
fi

port=""
dir=""
extra=()
while [ $# -gt 0 ]; do
    case $1 in
        --port) port=$2; shift 2 ;;
        --dir) dir=$2; shift 2 ;;
        --set) extra+=("$2"); shift 2 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) die "unknown argument: $1" ;;
    esac
done

dovecot=$(find_dovecot)
[ -n "$port" ] || port=$(free_port)
if [ -z "$dir" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/dovecot-loopback.XXXXXX")
else
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
fi
chmod 755 "$dir"

if [ "$(id -u)" = 0 ]; then
    mail_user=mail
    mail_group=mail
    first_uid=8
    internal_user=dovecot
    login_user=dovenull
    id dovecot >/dev/null 2>&1 || internal_user=mail
    id dovenull >/dev/null 2>&1 || login_user=mail
else
    # Unprivileged: everything runs as the current user.
    mail_user=$(id -un)
    mail_group=$(id -gn)
    first_uid=$(id -u)
    internal_user=$mail_user
    login_user=$mail_user
fi

mkdir -p "$dir/run" "$dir/state" "$dir/home"
chown "$mail_user:$mail_group" "$dir/home" 2>/dev/null || true
# The mail user must reach DIR/home: every parent directory needs o+x (mktemp -d
# makes 0700 directories). Check rather than fail later with "Internal error".
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
    if ! setpriv --reuid="$mail_user" --regid="$mail_group" --clear-groups \
        test -w "$dir/home" 2>/dev/null; then
        die "user $mail_user cannot write $dir/home (a parent directory is not o+x?)"
    fi
fi

conf=$dir/dovecot.conf
cat >"$conf" <<CONF
# Private loopback Dovecot made by scripts/dovecot-loopback.sh.
instance_name = dovecot-loopback-$port
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot-info.log
debug_log_path = $dir/dovecot-info.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = $internal_user
default_login_user = $login_user
mail_uid = $mail_user
mail_gid = $mail_group
first_valid_uid = $first_uid
mail_location = maildir:~/Maildir

passdb {
  driver = static
  args = password=pass
}
userdb {
  driver = static
  args = uid=$mail_user gid=$mail_group home=$dir/home/%u
}

namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Archive {
    special_use = \\Archive
    auto = subscribe
  }
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
  # Load tests open many connections at once.
  process_min_avail = 2
  service_count = 0
  client_limit = 1000
}
service imap {
  process_limit = 1024
}
service auth {
  client_limit = 2048
}
service anvil {
  client_limit = 2048
}
protocol imap {
  mail_max_userip_connections = 1000
}
CONF
for line in ${extra[@]+"${extra[@]}"}; do printf '%s\n' "$line" >>"$conf"; done

"$dovecot" -c "$conf" || die "dovecot failed to start; see $dir/dovecot.log"

# Wait until the listener answers.
ready=""
for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then ready=1; break; fi
    sleep 0.1
done
[ -n "$ready" ] || die "dovecot did not listen on 127.0.0.1:$port; see $dir/dovecot.log"

printf 'DOVECOT_PORT=%s\nDOVECOT_CONF=%s\nDOVECOT_DIR=%s\n' "$port" "$conf" "$dir"

#!/usr/bin/env bash
# Installs uni-wizard's systemd units, its system user and its data directory. Idempotent: a second
# run changes nothing (it says "ok" for each step), and the environment file, once there, is never
# overwritten (only its mode is narrowed back to 0600).
#
#   deploy/install.sh [--dry-run] [--root DIR] [--bin PATH]
#
#   --dry-run   print what would be done, change nothing
#   --root DIR  install into DIR as a root file system (an image, a test); no systemctl call
#   --bin PATH  the uni-wizard executable the units start (default /usr/local/bin/uni-wizard,
#               where `npm install -g` puts it)
#
# It does not enable or start anything: fill in /etc/uni-wizard/uni-wizard.env first.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
units_src="$here/systemd"
dry_run=0
root=""
bin=/usr/local/bin/uni-wizard
default_bin=/usr/local/bin/uni-wizard

usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() {
  echo "install.sh: $*" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --root) [ $# -ge 2 ] || die "--root needs a directory"; root="$2"; shift ;;
    --root=*) root="${1#--root=}" ;;
    --bin) [ $# -ge 2 ] || die "--bin needs a path"; bin="$2"; shift ;;
    --bin=*) bin="${1#--bin=}" ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument \"$1\" (see --help)" ;;
  esac
  shift
done

# The path goes into ExecStart= through sed: only plain absolute paths.
[[ "$bin" =~ ^/[A-Za-z0-9._/+-]+$ ]] || die "--bin must be an absolute path of letters, digits and ._/+-; got \"$bin\""
if [ -n "$root" ]; then
  [ -d "$root" ] || die "--root: no such directory \"$root\""
  root="$(cd "$root" && pwd)"
  [ "$root" != / ] || root=""
fi
if [ "$dry_run" = 0 ] && [ "$(id -u)" != 0 ]; then
  die "run it as root (or with --dry-run to see what it would do)"
fi

user=uni-wizard
data_dir=/var/lib/uni-wizard
conf_dir=/etc/uni-wizard
env_file=$conf_dir/uni-wizard.env
unit_dir=/etc/systemd/system
libexec_dir=/usr/local/libexec/uni-wizard
units=(uni-wizard.service uni-wizard-web.service uni-wizard-worker@.service)
changed_units=0

# say WHAT: one line per step; "would" in a dry run.
say() { if [ "$dry_run" = 1 ]; then echo "would $*"; else echo "$*"; fi; }
# act WHAT CMD...: say it, and run it unless this is a dry run.
act() {
  say "$1"
  shift
  [ "$dry_run" = 1 ] || "$@"
}

# Numeric ids from the target's own user database (with --root it is not this machine's).
user_line() { [ -f "$root/etc/passwd" ] && grep -m1 "^$user:" "$root/etc/passwd" || true; }
uid() { user_line | cut -d: -f3; }
gid() { user_line | cut -d: -f4; }

# 1. The system user: no login, no home of its own beyond the data directory.
if [ -n "$(user_line)" ]; then
  echo "ok: user $user exists"
else
  useradd_args=(--system --user-group --home-dir "$data_dir" --no-create-home
    --shell /usr/sbin/nologin --comment "uni-wizard bot" "$user")
  [ -z "$root" ] || useradd_args=(--root "$root" "${useradd_args[@]}")
  act "create system user $user (home $data_dir, no login shell)" useradd "${useradd_args[@]}"
fi
owner() { if [ "$dry_run" = 1 ] && [ -z "$(user_line)" ]; then echo "$user"; else echo "$(uid)"; fi; }
group() { if [ "$dry_run" = 1 ] && [ -z "$(user_line)" ]; then echo "$user"; else echo "$(gid)"; fi; }

# dir PATH MODE OWNER GROUP: create it, or bring an existing one back to this mode and owner.
dir() {
  local path="$root$1" mode="$2" o="$3" g="$4"
  if [ -d "$path" ] && [ "$(stat -c '%a %u %g' "$path")" = "${mode#0} $o $g" ]; then
    echo "ok: $1 ($mode)"
  else
    act "make directory $1 (mode $mode, owner $o:$g)" install -d -m "$mode" -o "$o" -g "$g" "$path"
  fi
}

# file SRC DEST MODE [render]: install SRC when DEST differs from it (rendered for units).
file() {
  local src="$1" dest="$root$2" mode="$3" tmp
  tmp="$(mktemp)"
  if [ "${4:-}" = render ]; then
    sed "s#$default_bin#$bin#g" "$src" >"$tmp"
  else
    cat "$src" >"$tmp"
  fi
  if [ -f "$dest" ] && cmp -s "$tmp" "$dest" && [ "$(stat -c '%a %u %g' "$dest")" = "${mode#0} 0 0" ]; then
    echo "ok: $2"
  else
    act "install $2 (mode $mode)" install -m "$mode" -o 0 -g 0 "$tmp" "$dest"
    [ "${4:-}" != render ] || changed_units=1
  fi
  rm -f "$tmp"
}

# 2. Directories: the data directory is the only one the service may write.
dir "$data_dir" 0750 "$(owner)" "$(group)"
dir "$conf_dir" 0750 0 "$(group)"
dir "$unit_dir" 0755 0 0
dir "$libexec_dir" 0755 0 0

# 3. The units and their readiness poll.
for unit in "${units[@]}"; do file "$units_src/$unit" "$unit_dir/$unit" 0644 render; done
file "$units_src/wait-ready.mjs" "$libexec_dir/wait-ready.mjs" 0755

# 4. The environment file: a template the first time, never overwritten; secrets stay root's.
if [ -f "$root$env_file" ]; then
  if [ "$(stat -c '%a %u %g' "$root$env_file")" = "600 0 0" ]; then
    echo "ok: $env_file (kept, 0600)"
  else
    act "narrow $env_file to root:root 0600 (kept its content)" chmod 0600 "$root$env_file"
    [ "$dry_run" = 1 ] || chown 0:0 "$root$env_file"
  fi
else
  act "install the template $env_file (mode 0600, root:root): fill it in" \
    install -m 0600 -o 0 -g 0 "$units_src/uni-wizard.env" "$root$env_file"
fi

if [ ! -x "$root$bin" ]; then
  echo "note: $bin is not there yet; install the package (npm install -g uni-wizard) or pass --bin"
fi

# 5. Tell systemd, on a live system only.
if [ "$changed_units" = 1 ] && [ -z "$root" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  act "reload systemd (systemctl daemon-reload)" systemctl daemon-reload
fi

[ "$dry_run" = 1 ] && exit 0
cat <<EOF
done. Next: fill in $env_file, then one of
  systemctl enable --now uni-wizard.service              # everything on this machine
  systemctl enable --now uni-wizard-web.service          # web host (needs REDIS_URL)
  systemctl enable --now uni-wizard-worker@bezalel.service  # a house's workers (needs REDIS_URL)
EOF

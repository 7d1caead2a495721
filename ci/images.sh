#!/usr/bin/env bash
# Local server images for the conformance suite, for machines where no container registry
# answers: each image is a Debian root file system (debootstrap from the machine's own apt
# mirror) with one server package and a small entrypoint, imported with `docker import`.
#
#   ci/images.sh start   install docker.io/debootstrap if missing, start dockerd if none
#                        answers (remembered in $STATE, or $AUTH_IMAGES_STATE), build every
#                        missing image
#   ci/images.sh build   build every missing image (dockerd must answer)
#   ci/images.sh stop    stop dockerd if `start` started it
#   ci/images.sh list    the tags, one a line
#
# Cached by tag: an image whose tag exists is never rebuilt (`docker rmi TAG` forces it).
# One minbase root file system per Debian suite is debootstrapped once (kept as the image
# auth-adapters/debian:<suite>) and each server image is that tree plus its package,
# installed in a chroot, so a cold run downloads each suite's base once.
set -euo pipefail

PREFIX="${AUTH_IMAGE_PREFIX:-auth-adapters}"
CACHE="${AUTH_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/auth-adapters/images}"
# Where `start` notes the dockerd it started, for `stop`. A run that sets its own file
# (.ci/run does) stops only the engine it started, never one another checkout started.
STATE="${AUTH_IMAGES_STATE:-$CACHE/dockerd.pid}"

# tag suite package(s) kind
IMAGES=(
  "postgres:15 bookworm postgresql-15 postgres"
  "postgres:17 trixie postgresql-17 postgres"
  "mariadb:10.11 bookworm mariadb-server mariadb"
  "mariadb:11.8 trixie mariadb-server mariadb"
  "redis:7 bookworm redis-server redis"
  "redis:8 trixie redis-server redis"
  "valkey:8 trixie valkey-server valkey"
)

log() { printf '[images] %s\n' "$*" >&2; }

engine_answers() { docker info >/dev/null 2>&1; }

# The first Debian mirror of the machine's apt sources (deb822 or one-line format), so no
# host name is written in this repository.
mirror() {
  local m
  m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '/^URIs:/ {print $2}' | grep -v -- '-security' | grep '/debian/\?$' | head -n 1 || true)
  if [ -z "$m" ]; then
    m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' |
      grep -v -- '-security' | grep '/debian/\?$' | head -n 1 || true)
  fi
  [ -n "$m" ] || { log "no Debian mirror in /etc/apt/sources.list*"; return 1; }
  echo "${m%/}"
}

install_tools() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    # Another apt may be running (a shared machine): wait for its lock.
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q \
      --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

start_engine() {
  if engine_answers; then return 0; fi
  mkdir -p "$CACHE"
  log "starting dockerd"
  # Its own log; the PID is remembered so `stop` only ever stops a daemon this script started.
  dockerd >"$CACHE/dockerd.log" 2>&1 &
  echo $! >"$STATE"
  for _ in $(seq 120); do
    if engine_answers; then return 0; fi
    sleep 0.5
  done
  log "dockerd did not answer within 60 s; see $CACHE/dockerd.log"
  return 1
}

stop_engine() {
  [ -f "$STATE" ] || return 0
  local pid
  pid=$(cat "$STATE")
  rm -f "$STATE"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping dockerd ($pid)"
    kill "$pid"
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

# The recipe of an image (suite, package, entrypoint) as a hash, stored in the image's
# environment: an image built from an older recipe counts as missing and is rebuilt.
recipe() { { echo "$2 $3"; entrypoint "$4"; } | sha256sum | cut -c1-16; }

has_image() { # tag recipe
  docker image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1" 2>/dev/null |
    grep -qx "AUTH_IMAGE_RECIPE=$2"
}

# The suite's base tree, debootstrapped once into $CACHE/rootfs-<suite>.
base_tree() {
  local suite=$1 dir="$CACHE/rootfs-$1"
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    log "debootstrap $suite (minbase)"
    debootstrap --variant=minbase "$suite" "$dir" "$(mirror)" >"$CACHE/debootstrap-$suite.log" 2>&1 ||
      { log "debootstrap $suite failed; see $CACHE/debootstrap-$suite.log"; return 1; }
    touch "$dir/.complete"
  fi
  echo "$dir"
}

entrypoint() {
  case $1 in
  postgres) cat <<'SH' ;;
#!/bin/sh
# initdb on first start (trust authentication, from any address), then the server in the
# foreground, durable (fsync on, the default), listening on every address.
set -e
BIN=$(ls -d /usr/lib/postgresql/*/bin | head -n 1)
export PGDATA=/var/lib/postgresql/data
mkdir -p "$PGDATA" /run/postgresql
chown postgres: "$PGDATA" /run/postgresql
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  runuser -u postgres -- "$BIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 >/dev/null
  echo "host all all all trust" >>"$PGDATA/pg_hba.conf"
fi
exec runuser -u postgres -- "$BIN/postgres" -D "$PGDATA" -c listen_addresses='*' \
  -c unix_socket_directories=/run/postgresql -c max_connections=300 "$@"
SH
  mariadb) cat <<'SH' ;;
#!/bin/sh
# A data directory on first start with root and no password from any host and the database
# `test`, then the server in the foreground, durable (InnoDB flushes its log at each commit,
# the default), listening on every address.
set -e
mkdir -p /run/mysqld /var/lib/mysql
chown mysql: /run/mysqld /var/lib/mysql
# The package already made a data directory (root by unix socket only): the marker says
# whether the suite's users are there.
if [ ! -f /var/lib/mysql/.auth-adapters ]; then
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db \
    --auth-root-authentication-method=normal >/dev/null
  # A server on a socket only, quiet (its "ready" line must not reach the log the suite
  # waits on), to add the users; then the real one.
  mariadbd --user=mysql --datadir=/var/lib/mysql --skip-networking \
    --socket=/run/mysqld/init.sock >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 120); do
    mariadb-admin --socket=/run/mysqld/init.sock -u root ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  mariadb --socket=/run/mysqld/init.sock -u root <<'SQL'
CREATE USER IF NOT EXISTS 'root'@'%';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS test;
SQL
  mariadb-admin --socket=/run/mysqld/init.sock -u root shutdown
  wait "$pid" || true
  touch /var/lib/mysql/.auth-adapters
fi
exec mariadbd --user=mysql --datadir=/var/lib/mysql --bind-address=0.0.0.0 \
  --skip-name-resolve --max-connections=500 "$@"
SH
  redis | valkey) cat <<SH ;;
#!/bin/sh
# Durable: every write is in the append-only file before it is acknowledged, so a killed
# and restarted server still has it.
set -e
mkdir -p /data
exec $1-server --bind 0.0.0.0 --protected-mode no --port 6379 --dir /data \\
  --appendonly yes --appendfsync always --save "" "\$@"
SH
  esac
}

build_image() { # tag suite package kind
  local tag="$PREFIX/$1" suite=$2 package=$3 kind=$4 hash
  hash=$(recipe "$@")
  if has_image "$tag" "$hash"; then
    log "$tag: cached"
    return 0
  fi
  local base work
  base=$(base_tree "$suite")
  work="$CACHE/work-${1//[:.]/-}"
  rm -rf "$work"
  log "$tag: $package on $suite"
  cp -a "$base" "$work"
  # No service starts inside the chroot; the package's own cluster is not wanted.
  printf '#!/bin/sh\nexit 101\n' >"$work/usr/sbin/policy-rc.d"
  chmod +x "$work/usr/sbin/policy-rc.d"
  mkdir -p "$work/etc/postgresql-common"
  echo "create_main_cluster = false" >"$work/etc/postgresql-common/createcluster.conf"
  cp /etc/resolv.conf "$work/etc/resolv.conf"
  mount -t proc proc "$work/proc"
  local ok=0
  chroot "$work" sh -c "DEBIAN_FRONTEND=noninteractive apt-get -q update &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      -o Dpkg::Options::=--force-confold $package && apt-get clean" \
    >"$CACHE/build-${1//[:.]/-}.log" 2>&1 || ok=$?
  umount "$work/proc"
  if [ "$ok" -ne 0 ]; then
    log "$tag: apt-get failed; see $CACHE/build-${1//[:.]/-}.log"
    return 1
  fi
  rm -f "$work/usr/sbin/policy-rc.d"
  rm -rf "$work/var/lib/apt/lists"/* "$work/var/cache/apt"/*.bin
  : >"$work/etc/resolv.conf"
  entrypoint "$kind" >"$work/entrypoint.sh"
  chmod +x "$work/entrypoint.sh"
  local port=5432
  case $kind in mariadb) port=3306 ;; redis | valkey) port=6379 ;; esac
  tar --numeric-owner -C "$work" -c . | docker import \
    -c 'ENTRYPOINT ["/entrypoint.sh"]' -c "EXPOSE $port" -c 'ENV LANG=C.UTF-8' \
    -c "ENV AUTH_IMAGE_RECIPE=$hash" - "$tag" >/dev/null
  rm -rf "$work"
  log "$tag: built"
}

build_all() {
  local started=$SECONDS line failed=0
  for line in "${IMAGES[@]}"; do
    # shellcheck disable=SC2086
    build_image $line || failed=1
  done
  log "images ready in $((SECONDS - started)) s"
  return $failed
}

case "${1:-start}" in
start)
  install_tools
  start_engine
  build_all
  ;;
build) build_all ;;
stop) stop_engine ;;
list) for line in "${IMAGES[@]}"; do echo "$PREFIX/${line%% *}"; done ;;
*)
  echo "usage: $0 start|build|stop|list" >&2
  exit 2
  ;;
esac

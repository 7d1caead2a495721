#!/usr/bin/env bash
# Two replicated SQL topologies (host processes from the machine's Debian packages, on
# 127.0.0.1 only) for the replication scenarios of the SQL adapters' tests:
#
#   pg       PostgreSQL 15: a primary on 5440 and a hot-standby streaming replica on 5441
#            that applies the primary's commits 300 ms late (recovery_min_apply_delay), so
#            a read from the replica right after a write misses it
#   galera   MariaDB 10.11 with Galera 4: three synchronous multi-primary nodes, SQL ports
#            3311-3313 (group communication 4567+10N, IST 4568+10N, SST 4444+10N)
#
#   ci/replicated.sh start pg|galera|all     stop what an earlier `start` left running, wipe
#                                            that kind's state, start it fresh and wait until
#                                            it is ready; says how long that took
#   ci/replicated.sh stop pg|galera|all      stop what `start` started, by its pidfiles
#   ci/replicated.sh urls pg                 the primary's URL, then the replica's, one a line
#   ci/replicated.sh urls galera             the three node URLs, comma-separated
#   ci/replicated.sh kill pg-replica         SIGKILL the replica (a crash, for failure drills)
#   ci/replicated.sh revive pg-replica       start it again on its data dir, wait until it
#                                            streams from the primary again
#   ci/replicated.sh kill galera N           SIGKILL node N (1-3)
#   ci/replicated.sh revive galera N         start node N again on its data dir (it rejoins by
#                                            IST or SST), wait until all three are Synced
#
# Everything but `urls` needs root: PostgreSQL refuses to run as root, so it runs as the
# postgres user, and mariadbd as the mysql user (the rsync state transfer fails with
# "Permission denied" otherwise). Data dirs, logs, pidfiles and sockets are under
# $AUTH_REPLICATED_STATE (/tmp/auth-adapters-replicated by default), which both users must be
# able to traverse. Waits are bounded by $AUTH_REPLICATED_TIMEOUT seconds (90); a timeout
# prints the end of the failing server's log. A port held by anything `start` did not start
# is an error, never reused. The machine's own servers (PostgreSQL on 5432, MariaDB on 3306
# and its /etc/mysql config) are never touched: each server here reads only its own config.
set -euo pipefail

STATE="${AUTH_REPLICATED_STATE:-/tmp/auth-adapters-replicated}"
TIMEOUT="${AUTH_REPLICATED_TIMEOUT:-90}"
PG_BIN=/usr/lib/postgresql/15/bin
GALERA_PROVIDER=/usr/lib/galera/libgalera_smm.so
GALERA_NODES="1 2 3"

log() { printf '[replicated] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

pg_port() { case $1 in primary) echo 5440 ;; replica) echo 5441 ;; esac }
sql_port() { echo $((3310 + $1)); }
gcomm_port() { echo $((4567 + 10 * $1)); }
ist_port() { echo $((4568 + 10 * $1)); }
sst_port() { echo $((4444 + 10 * $1)); }

ports() {
  local i
  case $1 in
  pg) echo "$(pg_port primary) $(pg_port replica)" ;;
  galera)
    for i in $GALERA_NODES; do
      echo "$(sql_port "$i") $(gcomm_port "$i") $(ist_port "$i") $(sst_port "$i")"
    done
    ;;
  esac
}

urls() {
  local i
  case $1 in
  pg)
    echo "postgres://postgres@127.0.0.1:$(pg_port primary)/postgres"
    echo "postgres://postgres@127.0.0.1:$(pg_port replica)/postgres"
    ;;
  galera)
    for i in $GALERA_NODES; do echo "mysql://root@127.0.0.1:$(sql_port "$i")/test"; done |
      paste -sd, -
    ;;
  esac
}

listening() { [ -n "$(ss -Hltn "sport = :$1")" ]; }

# Fails, naming the holder, when anything listens on one of the kind's ports.
ports_free() {
  local p taken=0
  for p in $(ports "$1"); do
    if listening "$p"; then
      log "$1: port $p is taken by something ci/replicated.sh did not start:" \
        "$(ss -Hltnp "sport = :$p" | awk '{print $4, $NF}' | paste -sd' ' -)"
      taken=1
    fi
  done
  [ "$taken" -eq 0 ] || die "$1: free those ports (or stop that server) and run start again"
}

# kill -0 alone would count a zombie as alive.
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$s" ] && [[ $s != Z* ]]; }

children_of() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true; }

descendants_of() {
  local c
  for c in $(children_of "$1"); do
    echo "$c"
    descendants_of "$c"
  done
}

# SIGKILLs each pid with all its descendants: orphaned PostgreSQL backends would keep the old
# shared memory attached (a restart refuses to start), an orphaned SST rsync daemon its port.
kill_hard() {
  local pid
  for pid in "$@"; do
    # shellcheck disable=SC2046
    kill -9 "$pid" $(descendants_of "$pid") 2>/dev/null || true
  done
}

# Waits for the pids to exit; kill_hard after 10 s.
await_exit() { # kind pid...
  local kind=$1 pid
  shift
  for pid in "$@"; do
    for _ in $(seq 50); do alive "$pid" || continue 2; sleep 0.2; done
    log "$kind: pid $pid did not exit within 10 s; killing it"
    kill_hard "$pid"
    for _ in $(seq 25); do alive "$pid" || continue 2; sleep 0.2; done
    die "$kind: pid $pid survived SIGKILL"
  done
}

fail() { # label logfile why
  log "$1: $3${NOT_READY:+ ($NOT_READY)}; the end of $2:"
  tail -n 30 "$2" >&2 2>/dev/null || true
  exit 1
}

# Polls `cond...` (which may say why in NOT_READY) until it holds; fails at once when the
# server's pid (if known) exits, else after TIMEOUT seconds.
NOT_READY=""
wait_for() { # label logfile pid cond...
  local label=$1 logfile=$2 pid=$3 deadline=$((SECONDS + TIMEOUT))
  shift 3
  NOT_READY=""
  until "$@"; do
    if [ -n "$pid" ] && ! alive "$pid"; then fail "$label" "$logfile" "exited"; fi
    [ "$SECONDS" -lt "$deadline" ] || fail "$label" "$logfile" "not ready within ${TIMEOUT}s"
    sleep 0.2
  done
}

need_root() {
  [ "$(id -u)" -eq 0 ] || die "run as root: the servers run as the postgres and mysql users"
}

# Absolute, and searchable by the users the servers run as (each kind's own dir is theirs).
prepare_state() {
  local user
  # Modes only of a dir made here: AUTH_REPLICATED_STATE may name one like /tmp itself.
  if [ ! -d "$STATE" ]; then
    mkdir -p "$STATE"
    chmod 755 "$STATE"
  fi
  STATE=$(cd "$STATE" && pwd -P)
  for user in postgres mysql; do
    runuser -u "$user" -- test -x "$STATE" ||
      die "$STATE is not traversable by the $user user; set AUTH_REPLICATED_STATE to a dir that is (/tmp/...)"
  done
}

# --- pg: PostgreSQL 15 primary + delayed hot standby -------------------------------------

pg_dir() { echo "$STATE/pg"; }
pg_data() { echo "$STATE/pg/$1"; }
pg_log() { echo "$STATE/pg/$1.log"; }

as_postgres() { runuser -u postgres -- "$@"; }

# The postmaster's pidfile is its postmaster.pid; only a postgres serving that data dir
# counts, since a stale pidfile's pid may belong to another process by now.
is_our_postgres() { # pid datadir
  [ "$(cat "/proc/$1/comm" 2>/dev/null)" = postgres ] &&
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "-D $2 "
}

pg_pid() { # role: prints the running postmaster's pid, or nothing
  local data pid
  data=$(pg_data "$1")
  pid=$(head -n1 "$data/postmaster.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && is_our_postgres "$pid" "$data"; then echo "$pid"; fi
}

psql_at() { # port sql: prints the unaligned result, fails when the server does not answer
  PGCONNECT_TIMEOUT=2 psql -X -Atq -h 127.0.0.1 -p "$1" -U postgres -d postgres -c "$2" 2>/dev/null
}

pg_start() { # role
  if ! as_postgres "$PG_BIN/pg_ctl" -D "$(pg_data "$1")" -l "$(pg_log "$1")" -w -t "$TIMEOUT" -s start; then
    fail "pg $1" "$(pg_log "$1")" "pg_ctl start failed"
  fi
}

replica_streams() {
  local got
  got=$(psql_at "$(pg_port replica)" \
    "select pg_is_in_recovery(), coalesce((select status from pg_stat_wal_receiver), 'none')") ||
    { NOT_READY="it does not answer"; return 1; }
  [ "$got" = "t|streaming" ] || { NOT_READY="in recovery|wal receiver: $got"; return 1; }
}

stop_pg() {
  local role pid pids=()
  for role in replica primary; do
    pid=$(pg_pid "$role")
    if [ -n "$pid" ]; then
      log "pg: stopping the $role (pid $pid)"
      # SIGINT is PostgreSQL's fast shutdown: clients are cut off instead of waited for.
      kill -INT "$pid" 2>/dev/null || true
      pids+=("$pid")
    elif [ -f "$(pg_data "$role")/postmaster.pid" ]; then
      log "pg: $(pg_data "$role")/postmaster.pid is stale; left alone"
    fi
  done
  await_exit pg "${pids[@]}"
}

start_pg() {
  local started=$SECONDS dir primary replica
  [ -x "$PG_BIN/postgres" ] || die "pg: $PG_BIN/postgres is missing (Debian package postgresql-15)"
  command -v psql >/dev/null || die "pg: psql is missing (Debian package postgresql-client-15)"
  stop_pg
  ports_free pg
  dir=$(pg_dir)
  primary=$(pg_data primary)
  replica=$(pg_data replica)
  rm -rf "$dir"
  mkdir -m 700 "$dir"
  chown postgres:postgres "$dir"
  # -N: nothing here outlives the machine, so no fsync of the new cluster.
  if ! as_postgres "$PG_BIN/initdb" -D "$primary" -U postgres --auth=trust -E UTF8 --locale=C -N \
    >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    die "pg: initdb failed"
  fi
  cat >"$primary/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
EOF
  # Appended, so these win over initdb's defaults; the replica's copy inherits them.
  cat >>"$primary/postgresql.conf" <<EOF

# ci/replicated.sh
listen_addresses = '127.0.0.1'
port = $(pg_port primary)
unix_socket_directories = '$dir'
max_connections = 200
shared_preload_libraries = 'pg_stat_statements'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
hot_standby_feedback = on
fsync = off
synchronous_commit = off
EOF
  pg_start primary
  # A slot keeps the WAL a killed replica has not received yet, for `revive`.
  if ! as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$(pg_port primary)" -U postgres \
    -D "$replica" -R -C -S replica -X stream -c fast -N >"$dir/basebackup.log" 2>&1; then
    cat "$dir/basebackup.log" >&2
    die "pg: pg_basebackup failed"
  fi
  cat >>"$replica/postgresql.conf" <<EOF
port = $(pg_port replica)
recovery_min_apply_delay = '300ms'
# Reconnect soon after the primary's walsender for a killed replica has gone.
wal_retrieve_retry_interval = '1s'
EOF
  pg_start replica
  wait_for "pg replica" "$(pg_log replica)" "$(pg_pid replica)" replica_streams
  log "pg: primary 127.0.0.1:$(pg_port primary), replica 127.0.0.1:$(pg_port replica) ready in $((SECONDS - started)) s"
}

kill_pg_replica() {
  local pid procs
  pid=$(pg_pid replica)
  [ -n "$pid" ] || die "pg: no replica of ci/replicated.sh is running"
  log "pg: SIGKILL to the replica (pid $pid) and its processes"
  # Its children too, and wait for them: they hold the shared memory a revive must get.
  read -ra procs <<<"$pid $(descendants_of "$pid" | paste -sd' ' -)"
  kill -9 "${procs[@]}" 2>/dev/null || true
  await_exit pg "${procs[@]}"
}

revive_pg_replica() {
  local started=$SECONDS lock pid
  [ -d "$(pg_data replica)" ] || die "pg: no replica data dir; run start pg first"
  # A replica without its primary would only wait for it until the timeout.
  [ -n "$(pg_pid primary)" ] || die "pg: the primary is not running; run start pg"
  if [ -n "$(pg_pid replica)" ]; then
    log "pg: the replica is running already"
  else
    # A killed postmaster stays a zombie until init reaps it, and PostgreSQL takes any pid
    # that kill -0 reaches for a server still running. The pid is not our postgres (pg_pid
    # says so), so once it is gone or after 5 s its lock file is stale.
    lock="$(pg_data replica)/postmaster.pid"
    pid=$(head -n1 "$lock" 2>/dev/null || true)
    if [ -n "$pid" ]; then
      for _ in $(seq 25); do [ -e "/proc/$pid" ] || break; sleep 0.2; done
      rm -f "$lock"
    fi
    pg_start replica
  fi
  wait_for "pg replica" "$(pg_log replica)" "$(pg_pid replica)" replica_streams
  log "pg: replica streaming again in $((SECONDS - started)) s"
}

# --- galera: MariaDB 10.11 + Galera 4, three nodes ---------------------------------------

g_dir() { echo "$STATE/galera/node$1"; }
g_cnf() { echo "$STATE/galera/node$1/my.cnf"; }
g_pidfile() { echo "$STATE/galera/node$1/mariadbd.pid"; }
g_log() { echo "$STATE/galera/node$1/error.log"; }

# Only a mariadbd started on that node's config counts: a stale pidfile may name another process.
is_our_mariadbd() { # pid node
  [ "$(cat "/proc/$1/comm" 2>/dev/null)" = mariadbd ] &&
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "--defaults-file=$(g_cnf "$2") "
}

g_pid() { # node: prints the running mariadbd's pid, or nothing
  local pid
  pid=$(cat "$(g_pidfile "$1")" 2>/dev/null || true)
  if [ -n "$pid" ] && is_our_mariadbd "$pid" "$1"; then echo "$pid"; fi
}

ensure_galera_packages() {
  command -v mariadbd >/dev/null || die "galera: mariadbd is missing (Debian package mariadb-server)"
  command -v mariadb >/dev/null || die "galera: the mariadb client is missing (Debian package mariadb-client)"
  [ ! -e "$GALERA_PROVIDER" ] || ! command -v rsync >/dev/null || return 0
  log "galera: installing galera-4 and rsync (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  # A machine's package lists may be missing or out of date: refresh them only when needed.
  if ! apt-get install -y -q galera-4 rsync >"$STATE/apt.log" 2>&1; then
    { apt-get update -q && apt-get install -y -q galera-4 rsync; } >>"$STATE/apt.log" 2>&1 ||
      { tail -n 20 "$STATE/apt.log" >&2; die "galera: installing galera-4 and rsync failed"; }
  fi
  [ -e "$GALERA_PROVIDER" ] || die "galera: $GALERA_PROVIDER is still missing after installing galera-4"
}

write_galera_cnf() { # node
  local i=$1 d peers="" n
  d=$(g_dir "$i")
  for n in $GALERA_NODES; do peers="$peers${peers:+,}127.0.0.1:$(gcomm_port "$n")"; done
  # Read through --defaults-file by mariadbd and by the SST script it runs, never /etc/mysql.
  cat >"$(g_cnf "$i")" <<EOF
[mysqld]
datadir = $d/data
socket = $d/mysqld.sock
pid-file = $(g_pidfile "$i")
log-error = $(g_log "$i")
port = $(sql_port "$i")
bind-address = 127.0.0.1
skip-name-resolve
max_connections = 200
binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
# Small, unflushed InnoDB files: quicker to create and to copy by SST; durability is the
# cluster's, and nothing here outlives the tests.
innodb_buffer_pool_size = 64M
innodb_log_file_size = 16M
innodb_flush_log_at_trx_commit = 2
wsrep_on = ON
wsrep_provider = $GALERA_PROVIDER
wsrep_cluster_name = auth-adapters
wsrep_cluster_address = gcomm://$peers
wsrep_node_name = node$i
# With a port: three nodes share 127.0.0.1, so the default 4567 would be announced by all.
wsrep_node_address = 127.0.0.1:$(gcomm_port "$i")
wsrep_node_incoming_address = 127.0.0.1:$(sql_port "$i")
# pc.recovery off: a revived node must not take back the killed one's identity from
# gvwstate.dat, which the others still count as a member until they evict it.
wsrep_provider_options = "gmcast.listen_addr=tcp://127.0.0.1:$(gcomm_port "$i");ist.recv_addr=127.0.0.1:$(ist_port "$i");gcache.size=64M;pc.recovery=false"
wsrep_sst_method = rsync
# Causal reads and writes: a statement on one node first waits until that node has applied
# what the cluster committed before it, so a call on node 2 sees a write acknowledged by
# node 1 a moment ago (the adapters' README, "Scaling out").
wsrep_sync_wait = 15
wsrep_sst_receive_address = 127.0.0.1:$(sst_port "$i")
EOF
}

# Starts node's mariadbd in the background as mysql; its pid is the pidfile's at once, so a
# node that hangs before writing its own (during SST) can still be stopped.
launch_galera() { # node extra-args...
  local i=$1 pidfile
  shift
  pidfile=$(g_pidfile "$i")
  # Made by us but owned by mysql: mariadbd rewrites both after it has dropped root.
  install -o mysql -g mysql -m 644 /dev/null "$pidfile"
  [ -f "$(g_log "$i")" ] || install -o mysql -g mysql -m 644 /dev/null "$(g_log "$i")"
  # setsid: out of the caller's process group (no terminal signal reaches it); it and setpriv
  # exec, so $! is mariadbd's own pid.
  setsid setpriv --reuid=mysql --regid=mysql --init-groups -- \
    /usr/sbin/mariadbd --defaults-file="$(g_cnf "$i")" "$@" \
    </dev/null >>"$(g_log "$i")" 2>&1 &
  echo "$!" >"$pidfile"
}

# 0 when the node answers root@127.0.0.1 over TCP and is a Synced member of a cluster of `want`.
galera_ready() { # node want
  local out size state ready
  out=$(mariadb --no-defaults -h 127.0.0.1 -P "$(sql_port "$1")" -u root --connect-timeout=2 -N -B \
    -e "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_size','wsrep_local_state_comment','wsrep_ready')" \
    2>/dev/null) || { NOT_READY="node $1 does not answer on 127.0.0.1:$(sql_port "$1")"; return 1; }
  size=$(awk '$1 == "wsrep_cluster_size" {print $2}' <<<"$out")
  state=$(awk '$1 == "wsrep_local_state_comment" {print $2}' <<<"$out")
  ready=$(awk '$1 == "wsrep_ready" {print $2}' <<<"$out")
  if [ "$size" != "$2" ] || [ "$state" != Synced ] || [ "$ready" != ON ]; then
    NOT_READY="node $1: cluster size ${size:-?} of $2, ${state:-?}, ready ${ready:-?}"
    return 1
  fi
}

wait_galera() { # want node...
  local want=$1 i
  shift
  for i in "$@"; do
    # The pidfile as launch_galera wrote it: right after the launch, the pid may not have
    # exec'd mariadbd yet, and g_pid would not know it.
    wait_for "galera node $i" "$(g_log "$i")" "$(cat "$(g_pidfile "$i")" 2>/dev/null || true)" \
      galera_ready "$i" "$want"
  done
}

stop_galera() {
  local i pid pids=()
  for i in $GALERA_NODES; do
    pid=$(g_pid "$i")
    if [ -n "$pid" ]; then
      log "galera: stopping node $i (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    elif [ -s "$(g_pidfile "$i")" ]; then
      log "galera: $(g_pidfile "$i") is stale; left alone"
    fi
  done
  await_exit galera "${pids[@]}"
  for i in $GALERA_NODES; do rm -f "$(g_pidfile "$i")"; done
}

start_galera() {
  local started=$SECONDS dir i
  ensure_galera_packages
  stop_galera
  ports_free galera
  dir="$STATE/galera"
  rm -rf "$dir"
  mkdir -m 755 "$dir"
  for i in $GALERA_NODES; do
    # A joiner's datadir must exist (empty) for SST to fill it.
    mkdir -m 750 "$(g_dir "$i")" "$(g_dir "$i")/data"
    write_galera_cnf "$i"
  done
  # What the tests log in with: root with no password over TCP (skip-name-resolve makes
  # 'localhost' match only the socket), and the `test` database. Made in node 1's datadir
  # before anything joins, so SST carries it to the others.
  cat >"$dir/init.sql" <<'EOF'
-- mariadb-install-db runs this with the grant tables off, so no CREATE USER or GRANT:
-- copies of root@localhost, whom --auth-root-authentication-method=normal gives every
-- privilege and no password.
DELETE FROM mysql.global_priv WHERE User = '';
REPLACE INTO mysql.global_priv (Host, User, Priv)
  SELECT h.Host, p.User, p.Priv FROM mysql.global_priv p
  JOIN (SELECT '127.0.0.1' AS Host UNION SELECT '%') h
  WHERE p.User = 'root' AND p.Host = 'localhost';
CREATE DATABASE IF NOT EXISTS test;
EOF
  chown -R mysql:mysql "$dir"
  if ! mariadb-install-db --no-defaults --user=mysql --datadir="$(g_dir 1)/data" \
    --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
    --extra-file="$dir/init.sql" >"$dir/install-db.log" 2>&1; then
    cat "$dir/install-db.log" >&2
    die "galera: mariadb-install-db failed"
  fi
  launch_galera 1 --wsrep-new-cluster
  wait_galera 1 1
  # One joiner at a time: node 1 is the only Synced donor, and an rsync SST blocks it.
  launch_galera 2
  wait_galera 2 2
  launch_galera 3
  # shellcheck disable=SC2086
  wait_galera 3 $GALERA_NODES
  log "galera: nodes 127.0.0.1:$(sql_port 1)-$(sql_port 3) Synced in $((SECONDS - started)) s"
}

galera_node() { # arg: validates a node number
  case ${1:-} in 1 | 2 | 3) echo "$1" ;; *) usage ;; esac
}

kill_galera() {
  local i pid
  i=$(galera_node "${1:-}")
  pid=$(g_pid "$i")
  [ -n "$pid" ] || die "galera: node $i of ci/replicated.sh is not running"
  log "galera: SIGKILL to node $i (pid $pid)"
  kill_hard "$pid"
  await_exit galera "$pid"
  # mariadbd had no chance to remove it; `stop` would call it stale.
  rm -f "$(g_pidfile "$i")"
}

# The last committed position in node's InnoDB, as uuid:seqno, or nothing.
recovered_position() { # node
  local out
  out="$(g_dir "$1")/recover.log"
  install -o mysql -g mysql -m 644 /dev/null "$out"
  setpriv --reuid=mysql --regid=mysql --init-groups -- /usr/sbin/mariadbd \
    --defaults-file="$(g_cnf "$1")" --wsrep-recover --log-error="$out" </dev/null >/dev/null 2>&1 || true
  sed -n 's/.*WSREP: Recovered position: \([0-9a-f-]*:-\{0,1\}[0-9]*\).*/\1/p' "$out" | tail -n 1
}

revive_galera() {
  local started=$SECONDS i n others pos
  i=$(galera_node "${1:-}")
  [ -d "$(g_dir "$i")/data" ] || die "galera: node $i has no data dir; run start galera first"
  # Alone it would find no primary component to join and wait until the timeout.
  others=0
  for n in $GALERA_NODES; do
    if [ "$n" != "$i" ] && [ -n "$(g_pid "$n")" ]; then others=$((others + 1)); fi
  done
  [ "$others" -gt 0 ] || die "galera: no other node is running for node $i to join; run start galera"
  if [ -n "$(g_pid "$i")" ]; then
    log "galera: node $i is running already"
  else
    # No --wsrep-new-cluster: it joins the others, which it finds in wsrep_cluster_address.
    # A killed node's grastate.dat has no position, so it would ask for a full SST; the one
    # InnoDB recovers lets it catch up by IST from the others' gcache instead.
    pos=$(recovered_position "$i")
    if [ -n "$pos" ]; then
      launch_galera "$i" --wsrep-start-position="$pos"
    else
      launch_galera "$i"
    fi
  fi
  # shellcheck disable=SC2086
  wait_galera 3 "$i" $GALERA_NODES
  log "galera: node $i Synced again in $((SECONDS - started)) s"
}

# --- commands ----------------------------------------------------------------------------

usage() {
  cat >&2 <<EOF
usage: $0 start|stop pg|galera|all
       $0 urls pg|galera
       $0 kill|revive pg-replica
       $0 kill|revive galera 1|2|3
EOF
  exit 2
}

kinds() {
  case ${1:-} in
  pg | galera) echo "$1" ;;
  all) echo pg galera ;;
  *) usage ;;
  esac
}

case "${1:-}" in
start)
  list=$(kinds "${2:-}")
  need_root
  prepare_state
  begun=$SECONDS
  for kind in $list; do "start_$kind"; done
  log "start ${2}: ready in $((SECONDS - begun)) s"
  ;;
stop)
  list=$(kinds "${2:-}")
  need_root
  [ ! -d "$STATE" ] || STATE=$(cd "$STATE" && pwd -P)
  # Each kind, even when stopping another failed.
  status=0
  for kind in $list; do ("stop_$kind") || status=1; done
  exit "$status"
  ;;
urls)
  case ${2:-} in pg | galera) urls "$2" ;; *) usage ;; esac
  ;;
kill | revive)
  need_root
  [ -d "$STATE" ] || die "no state in $STATE; run start first"
  STATE=$(cd "$STATE" && pwd -P)
  case ${2:-} in
  pg-replica) "$1_pg_replica" ;;
  galera) "$1_galera" "${3:-}" ;;
  *) usage ;;
  esac
  ;;
*) usage ;;
esac

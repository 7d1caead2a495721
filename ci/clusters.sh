#!/usr/bin/env bash
# Two six-node clusters (3 primaries, 3 replicas, on 127.0.0.1 only) for the cluster
# scenarios of the Redis adapter's conformance tests:
#
#   redis    the machine's own redis-server (Debian's 7.0), host processes, ports 7000-7005
#   valkey   containers of the local image auth-adapters/valkey:8 (ci/images.sh builds it)
#            on the host network, ports 7100-7105
#
#   ci/clusters.sh start redis|valkey|all   stop what an earlier `start` left running, then
#                                           form a fresh cluster and wait until every node
#                                           serves all 16384 slots and every replica is in
#                                           sync
#   ci/clusters.sh stop redis|valkey|all    stop what `start` started: the redis-server
#                                           processes by their pidfiles, the containers
#   ci/clusters.sh urls redis|valkey        the seed URLs, comma-separated
#                                           (redis://127.0.0.1:7000,redis://127.0.0.1:7001,...)
#
# Each node also holds its port + 10000 (the cluster bus). A port held by anything `start`
# did not start is an error, never reused. Node files, logs and pidfiles are under
# $AUTH_CLUSTER_STATE (target/clusters of the current directory by default) and every
# `start` wipes them. Waits are bounded by $AUTH_CLUSTER_TIMEOUT seconds (60).
set -euo pipefail

STATE="${AUTH_CLUSTER_STATE:-$PWD/target/clusters}"
TIMEOUT="${AUTH_CLUSTER_TIMEOUT:-60}"
IMAGE="${AUTH_IMAGE_PREFIX:-auth-adapters}/valkey:8"
CONTAINER=auth-valkey-cluster
# .ci/run's cleanup removes every container with the first label; the second is ours.
LABEL=auth-adapters.conformance
CLUSTER_LABEL=auth-adapters.cluster=valkey

log() { printf '[clusters] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

ports() {
  case $1 in
  redis) seq 7000 7005 ;;
  valkey) seq 7100 7105 ;;
  esac
}

urls() { ports "$1" | sed 's|^|redis://127.0.0.1:|' | paste -sd, -; }

# redis-cli answers with CRLF line ends when its output is not a terminal.
cli() { local port=$1; shift; redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null | tr -d '\r'; }

listening() { [ -n "$(ss -Hltn "sport = :$1")" ]; }

# Fails, naming the holder, when anything listens on a node's port or its bus port.
ports_free() {
  local port p taken=0
  for port in $(ports "$1"); do
    for p in "$port" $((port + 10000)); do
      if listening "$p"; then
        log "$1: port $p is taken by something ci/clusters.sh did not start:" \
          "$(ss -Hltnp "sport = :$p" | awk '{print $4, $NF}' | paste -sd' ' -)"
        taken=1
      fi
    done
  done
  [ "$taken" -eq 0 ] || die "$1: free those ports (or stop that server) and run start again"
}

# Waits until every node answers PING; `logs_of <port>` shows why one did not.
wait_up() { # kind logs_of
  local kind=$1 logs_of=$2 port deadline=$((SECONDS + TIMEOUT))
  for port in $(ports "$kind"); do
    until [ "$(cli "$port" ping)" = PONG ]; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        log "$kind: node $port did not answer within ${TIMEOUT}s; its log ends:"
        "$logs_of" "$port" | tail -n 20 >&2
        exit 1
      fi
      sleep 0.2
    done
  done
}

# 0 when every node says the cluster is whole; else NOT_READY says what is missing.
NOT_READY=""
cluster_ready() {
  local port info nodes repl
  for port in $(ports "$1"); do
    info=$(cli "$port" cluster info)
    for want in cluster_state:ok cluster_slots_ok:16384 cluster_known_nodes:6; do
      grep -qx "$want" <<<"$info" || { NOT_READY="node $port: no $want"; return 1; }
    done
    # Every node seen at 127.0.0.1 (never a bridge address), none failing or in handshake,
    # three primaries and three replicas.
    nodes=$(cli "$port" cluster nodes)
    if [ "$(awk '$2 ~ /^127\.0\.0\.1:/ && $3 !~ /fail|handshake|noaddr/' <<<"$nodes" | wc -l)" -ne 6 ] ||
      [ "$(awk '$3 ~ /master/' <<<"$nodes" | wc -l)" -ne 3 ] ||
      [ "$(awk '$3 ~ /slave|replica/' <<<"$nodes" | wc -l)" -ne 3 ]; then
      NOT_READY="node $port: cluster nodes is not 3 primaries + 3 replicas, all at 127.0.0.1: $nodes"
      return 1
    fi
    repl=$(cli "$port" info replication)
    if grep -Eqx 'role:(slave|replica)' <<<"$repl"; then
      if ! grep -qx master_link_status:up <<<"$repl" || ! grep -qx master_sync_in_progress:0 <<<"$repl"; then
        NOT_READY="replica $port: initial sync not finished ($(grep -E '^master_(link_status|sync_in_progress):' <<<"$repl" | paste -sd' ' -))"
        return 1
      fi
    fi
  done
}

wait_ready() {
  local deadline=$((SECONDS + TIMEOUT))
  until cluster_ready "$1"; do
    [ "$SECONDS" -lt "$deadline" ] || die "$1: cluster not ready within ${TIMEOUT}s: $NOT_READY"
    sleep 0.25
  done
}

# `--cluster create` on the six nodes: the first three become primaries, one replica each.
create() { # kind cli...
  local kind=$1 out="$STATE/$1/create.log" port nodes=()
  shift
  for port in $(ports "$kind"); do nodes+=("127.0.0.1:$port"); done
  if ! "$@" --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$out" 2>&1; then
    cat "$out" >&2
    die "$kind: --cluster create failed (output above, and in $out)"
  fi
}

# --- redis: host processes ---------------------------------------------------------------

# Only a redis-server serving that port: a stale pidfile's PID may belong to another process.
is_our_redis() { # pid port
  [ "$(cat "/proc/$1/comm" 2>/dev/null)" = redis-server ] &&
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q "127\.0\.0\.1:$2\b"
}

stop_redis() {
  local dir="$STATE/redis" port pidfile pid pids=()
  for port in $(ports redis); do
    pidfile="$dir/$port.pid"
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if is_our_redis "$pid" "$port"; then
      log "redis: stopping node $port (pid $pid)"
      kill "$pid" 2>/dev/null || true
      pids+=("$pid")
    else
      log "redis: $pidfile is stale (pid $pid is not node $port); left alone"
    fi
    rm -f "$pidfile"
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || continue 2; sleep 0.2; done
    log "redis: pid $pid did not exit within 10 s; killing it"
    kill -9 "$pid" 2>/dev/null || true
  done
}

redis_log() { cat "$STATE/redis/$1.log" 2>/dev/null || true; }

start_redis() {
  local started=$SECONDS dir="$STATE/redis" port
  stop_redis
  ports_free redis
  rm -rf "$dir"
  for port in $(ports redis); do
    mkdir -p "$dir/$port"
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
      --cluster-config-file "$dir/nodes-$port.conf" --cluster-node-timeout 2000 \
      --cluster-announce-ip 127.0.0.1 --repl-diskless-sync-delay 0 \
      --save "" --appendonly no --daemonize yes --pidfile "$dir/$port.pid" \
      --logfile "$dir/$port.log" --dir "$dir/$port"
  done
  wait_up redis redis_log
  create redis redis-cli
  wait_ready redis
  log "redis: cluster ready on 127.0.0.1:7000-7005 in $((SECONDS - started)) s"
}

# --- valkey: containers on the host network ----------------------------------------------

engine_answers() { docker info >/dev/null 2>&1; }

stop_valkey() {
  if ! engine_answers; then
    log "valkey: no Docker engine answers; no container to remove"
    return 0
  fi
  local ids
  ids=$(docker ps -aq --filter "label=$CLUSTER_LABEL")
  if [ -n "$ids" ]; then
    log "valkey: removing $(wc -l <<<"$ids") container(s)"
    # shellcheck disable=SC2086
    docker rm -f $ids >/dev/null
  fi
}

valkey_log() { docker logs "$CONTAINER-$1" 2>&1 || true; }

start_valkey() {
  local started=$SECONDS port c="$CONTAINER-7100"
  engine_answers || die "valkey: no Docker engine answers (ci/images.sh start starts one)"
  docker image inspect "$IMAGE" >/dev/null 2>&1 || die "valkey: no image $IMAGE (ci/images.sh start builds it)"
  stop_valkey
  ports_free valkey
  rm -rf "$STATE/valkey"
  mkdir -p "$STATE/valkey"
  # The image's entrypoint runs valkey-server with its defaults first, so these win. On the
  # host network: nodes listen on, announce and reach each other at 127.0.0.1, as clients do.
  for port in $(ports valkey); do
    docker run -d --network host --name "$CONTAINER-$port" --label "$LABEL=1" \
      --label "$CLUSTER_LABEL" "$IMAGE" --port "$port" --bind 127.0.0.1 \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
      --cluster-announce-ip 127.0.0.1 --repl-diskless-sync-delay 0 \
      --appendonly no --appendfsync everysec >/dev/null
  done
  wait_up valkey valkey_log
  if docker exec "$c" sh -c 'command -v valkey-cli' >/dev/null 2>&1; then
    create valkey docker exec "$c" valkey-cli
  else
    create valkey redis-cli
  fi
  wait_ready valkey
  log "valkey: cluster ready on 127.0.0.1:7100-7105 in $((SECONDS - started)) s"
}

# --- commands ----------------------------------------------------------------------------

usage() {
  echo "usage: $0 start|stop redis|valkey|all, or $0 urls redis|valkey" >&2
  exit 2
}

kinds() {
  case ${1:-} in
  redis | valkey) echo "$1" ;;
  all) echo redis valkey ;;
  *) usage ;;
  esac
}

case "${1:-}" in
start)
  command -v redis-cli >/dev/null || die "redis-cli is missing (Debian package redis-tools)"
  list=$(kinds "${2:-}")
  mkdir -p "$STATE"
  STATE=$(cd "$STATE" && pwd) # absolute: redis-server takes its paths after chdir
  for kind in $list; do "start_$kind"; done
  ;;
stop)
  list=$(kinds "${2:-}")
  # Each kind, even when stopping another failed.
  status=0
  for kind in $list; do "stop_$kind" || status=1; done
  exit "$status"
  ;;
urls)
  case ${2:-} in redis | valkey) urls "$2" ;; *) usage ;; esac
  ;;
*) usage ;;
esac

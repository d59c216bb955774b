# shellcheck shell=bash disable=SC2034  # variables here are used by the scripts sourcing it
# Shared by compose/up, compose/down, compose/broker and compose/kafka-tool (sourced, not run).
# Paths, ports and small helpers for the local Kafka + PostgreSQL stack.

compose_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
stack_dir="$compose_dir/.stack"

# The pom is the one place the Kafka version is pinned.
kafka_version="$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$compose_dir/pom.xml")"
kafka_libs="$stack_dir/kafka-$kafka_version/libs"
kafka_libs_marker="$stack_dir/kafka-$kafka_version/.complete"

# The single node's ports; the cluster's node N takes kafka_port + 100 * (N - 1) and the two
# ports after it (controller, SASL_SSL), so node 1 and the single node share 9092.
kafka_port="${KAFKA_PORT:-9092}"
kafka_controller_port="${KAFKA_CONTROLLER_PORT:-9093}"
kafka_sasl_port="${KAFKA_SASL_PORT:-$((kafka_port + 2))}"
pg_port="${POSTGRES_PORT:-5432}"
# The PostgreSQL that asks for passwords (compose/up --secure).
pg_secure_port="${POSTGRES_SECURE_PORT:-5433}"
pg_secure_cluster="${POSTGRES_SECURE_CLUSTER:-foodpipe_secure}"
cluster_size=3

server_properties="$stack_dir/server.properties"
broker_log4j="$stack_dir/log4j.properties"
tools_log4j="$stack_dir/tools-log4j.properties"
data_dir="$stack_dir/data"
cluster_id_file="$stack_dir/cluster.id"
kafka_log="$stack_dir/kafka.log"
kafka_pid_file="$stack_dir/kafka.pid"
# Written by compose/up only when it had to start PostgreSQL itself ("<version> <cluster>").
pg_started_marker="$stack_dir/postgres.started-by-up"
pg_secure_started_marker="$stack_dir/postgres-secure.started-by-up"

# The three-broker cluster: one folder per node, one cluster id for the three.
cluster_dir="$stack_dir/cluster"
cluster_cluster_id_file="$cluster_dir/cluster.id"

# The secure listener's material (compose/up --secure) and the client files it writes.
secure_dir="$stack_dir/secure"
secure_user=foodpipe
secure_password_file="$secure_dir/$secure_user.password"
store_password_file="$secure_dir/store.password"
ca_pem="$secure_dir/ca.pem"
other_ca_pem="$stack_dir/other-ca.pem"
broker_keystore="$secure_dir/broker.p12"
client_truststore="$secure_dir/truststore.p12"
client_java_properties="$stack_dir/client-java.properties"
client_librdkafka_properties="$stack_dir/client-librdkafka.properties"

# Sets the node_* variables for one broker: `single` (compose/up) or 1..3 (compose/up --brokers 3).
select_node() {
  if [[ "$1" == single ]]; then
    node_name="single node"
    node_id=1
    node_dir="$stack_dir"
    node_properties="$server_properties"
    node_data="$data_dir"
    node_log="$kafka_log"
    node_pid_file="$kafka_pid_file"
    node_port="$kafka_port"
    node_controller_port="$kafka_controller_port"
    node_sasl_port="$kafka_sasl_port"
  else
    node_name="node $1"
    node_id="$1"
    node_dir="$cluster_dir/node-$1"
    node_properties="$node_dir/server.properties"
    node_data="$node_dir/data"
    node_log="$node_dir/kafka.log"
    node_pid_file="$node_dir/kafka.pid"
    node_port=$((kafka_port + 100 * ($1 - 1)))
    node_controller_port=$((node_port + 1))
    node_sasl_port=$((node_port + 2))
  fi
}

# Tools (format, TopicCommand, ...) log warnings and errors to stderr only.
write_tools_log4j() {
  mkdir -p "$stack_dir"
  cat >"$tools_log4j" <<'LOG4J'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
LOG4J
}

# Run a Kafka main class from the fetched jars.
kafka_java() {
  java -Xmx512m -Djava.awt.headless=true -Dlog4j.configuration="file:$tools_log4j" \
    -cp "$kafka_libs/*" "$@"
}

# PID of the broker started by compose/up with server.properties $2 (PID file $1), if it is
# alive; empty otherwise. The PID file is trusted only when that process really is a
# kafka.Kafka running that server.properties (PIDs get reused). Falls back to looking for
# exactly that command line, in case the PID file was lost.
broker_pid_of() {
  local pid_file="$1" properties="$2" pid=""
  if [[ -s "$pid_file" ]]; then
    pid="$(<"$pid_file")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && is_broker_of "$pid" "$properties"; then
      echo "$pid"
      return
    fi
  fi
  for pid in $(pgrep -f 'kafka\.Kafka' || true); do
    if is_broker_of "$pid" "$properties"; then
      echo "$pid"
      return
    fi
  done
}

is_broker_of() {
  local cmdline
  [[ -r "/proc/$1/cmdline" ]] || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"kafka.Kafka $2 "* || "$cmdline" == *"kafka.Kafka $2" ]]
}

# The single node's PID (see broker_pid_of).
broker_pid() { broker_pid_of "$kafka_pid_file" "$server_properties"; }

# Cluster node $1's PID (see broker_pid_of).
node_pid() { broker_pid_of "$cluster_dir/node-$1/kafka.pid" "$cluster_dir/node-$1/server.properties"; }

# The cluster nodes that run, as "N:pid" words.
running_cluster_nodes() {
  local n pid
  for ((n = 1; n <= cluster_size; n++)); do
    pid="$(node_pid "$n")"
    [[ -z "$pid" ]] || printf '%s:%s ' "$n" "$pid"
  done
}

# The TCP ports in the listeners= line of a server.properties.
listener_ports() {
  sed -n 's/^listeners=//p' "$1" 2>/dev/null | grep -o ':[0-9]*' | tr -d ':' | tr '\n' ' '
}

# Stops brokers: SIGTERM to each at once, up to $1 seconds for Kafka's controlled shutdown,
# then SIGKILL. Then pairs of PID and name ("Kafka node 2") for say(). At once, because a
# node of the cluster shuts down cleanly only while a quorum of controllers still runs; even
# so, the last node often waits for a quorum that left before it: once it is the only one of
# several still running, it gets 5 s more (its leaders have moved by then; a start after a
# SIGKILL recovers its log).
stop_pids() {
  local grace="$1" pid i alive alone_since=-1
  shift
  local -a pids=()
  while (($# >= 2)); do
    say "stopping $2 (pid $1)"
    kill -TERM "$1" 2>/dev/null || true
    pids+=("$1")
    shift 2
  done
  for ((i = 0; i < grace * 10; i++)); do # 0.1 s steps
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=$((alive + 1)); done
    ((alive > 0)) || return 0
    if ((alive == 1 && ${#pids[@]} > 1)); then
      ((alone_since >= 0)) || alone_since=$i
      ((i - alone_since < 50)) || break
    fi
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      say "pid $pid still running after $((i / 10)) s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
  done
}

# Runs a command with only stdin, stdout and stderr open. A daemon it starts (a broker,
# PostgreSQL) must not inherit the caller's other descriptors: a test that reads compose/up's
# output through a pipe would wait for that daemon to exit, and up.lock would stay held.
# shellcheck disable=SC2016  # $$ and $@ belong to the inner shell
only_std_fds() {
  bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}; ((fd <= 2)) || eval "exec $fd>&-"; done; exec "$@"' bash "$@"
}

# True when something accepts TCP connections on 127.0.0.1:<port>.
port_open() {
  timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# True when a Kafka broker answers a metadata request on 127.0.0.1:<port> (default: the
# single node's client port), not just an open port: kcat prints the broker list only from a
# real Metadata response.
kafka_answers() {
  kcat -b "127.0.0.1:${1:-$kafka_port}" -L -m 3 -t __foodpipe_probe 2>/dev/null | grep -q ' brokers:'
}

# True when the broker on 127.0.0.1:<port> answers a metadata request and that metadata lists
# broker id $2 and at least $3 brokers: the node is registered, unfenced and serving.
node_in_cluster() {
  local metadata
  metadata="$(kcat -b "127.0.0.1:$1" -L -m 3 -t __foodpipe_probe 2>/dev/null)" || return 1
  grep -q "^  broker $2 at " <<<"$metadata" || return 1
  (($(grep -c '^  broker [0-9]* at ' <<<"$metadata") >= $3))
}

# Under-replicated or leaderless partitions as seen by the broker on 127.0.0.1:<port>, one
# "topic/partition leader L replicas R isrs I" line each; empty when every ISR is full.
# Fails when the broker does not answer.
under_replicated() {
  local metadata
  metadata="$(kcat -b "127.0.0.1:$1" -L -m 5 2>/dev/null)" || return 1
  grep -q ' brokers:' <<<"$metadata" || return 1
  awk '
    /^  topic "/ { topic = $2; gsub(/"/, "", topic) }
    /^    partition / {
      line = $0
      sub(/^ *partition /, "", line)
      split(line, f, ", ")
      leader = f[2]; sub(/leader /, "", leader)
      replicas = f[3]; sub(/replicas: /, "", replicas)
      isrs = f[4]; sub(/isrs: /, "", isrs)
      if (leader == "-1" || split(isrs, a, ",") < split(replicas, b, ","))
        printf "%s/%s leader %s replicas %s isrs %s\n", topic, f[1], leader, replicas, isrs
    }' <<<"$metadata"
}

# shellcheck shell=bash disable=SC2034  # variables here are used by the scripts sourcing it
# Shared by compose/up, compose/down and compose/kafka-tool (sourced, not run).
# Paths, ports and small helpers for the local Kafka + PostgreSQL stack.

compose_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
stack_dir="$compose_dir/.stack"

# The pom is the one place the Kafka version is pinned.
kafka_version="$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$compose_dir/pom.xml")"
kafka_libs="$stack_dir/kafka-$kafka_version/libs"
kafka_libs_marker="$stack_dir/kafka-$kafka_version/.complete"

kafka_port="${KAFKA_PORT:-9092}"
kafka_controller_port="${KAFKA_CONTROLLER_PORT:-9093}"
pg_port="${POSTGRES_PORT:-5432}"

server_properties="$stack_dir/server.properties"
broker_log4j="$stack_dir/log4j.properties"
tools_log4j="$stack_dir/tools-log4j.properties"
data_dir="$stack_dir/data"
cluster_id_file="$stack_dir/cluster.id"
kafka_log="$stack_dir/kafka.log"
kafka_pid_file="$stack_dir/kafka.pid"
# Written by compose/up only when it had to start PostgreSQL itself ("<version> <cluster>").
pg_started_marker="$stack_dir/postgres.started-by-up"

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

# PID of the broker started by compose/up, if it is alive; empty otherwise. The PID file is
# trusted only when that process really is a kafka.Kafka running our server.properties
# (PIDs get reused). Falls back to looking for exactly that command line, in case the PID
# file was lost.
broker_pid() {
  local pid=""
  if [[ -s "$kafka_pid_file" ]]; then
    pid="$(<"$kafka_pid_file")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && is_our_broker "$pid"; then
      echo "$pid"
      return
    fi
  fi
  for pid in $(pgrep -f 'kafka\.Kafka' || true); do
    if is_our_broker "$pid"; then
      echo "$pid"
      return
    fi
  done
}

is_our_broker() {
  local cmdline
  [[ -r "/proc/$1/cmdline" ]] || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"kafka.Kafka $server_properties"* ]]
}

# True when something accepts TCP connections on 127.0.0.1:<port>.
port_open() {
  timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# True when a Kafka broker answers a metadata request on the client port (not just an open
# port): kcat prints the broker list only from a real Metadata response.
kafka_answers() {
  kcat -b "127.0.0.1:$kafka_port" -L -m 3 -t __foodpipe_probe 2>/dev/null | grep -q ' brokers:'
}

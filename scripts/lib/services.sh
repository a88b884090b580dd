# Sourced by scripts/bench.sh, scripts/frappe_suite.sh and scripts/demo.sh.
# Uses: $bench. Starts MariaDB and the bench's Redis servers when they are down, and remembers what it
# started so that stop_started_services stops only that.

started_mariadb=${started_mariadb:-0}
started_redis_ports=()

say() { printf '\n== %s\n' "$*"; }

bench_owner() { stat -c %U "$bench"; }

as_bench_user() {
	local owner
	owner=$(bench_owner)
	if [ "$(id -un)" = "$owner" ]; then
		"$@"
	else
		runuser -u "$owner" -- "$@"
	fi
}

mariadb_up() { mariadb-admin ping --silent >/dev/null 2>&1; }

start_mariadb() {
	mariadb_up && return 0
	say "Starting MariaDB"
	mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
	(mysqld_safe >/tmp/crm_mysqld_safe.log 2>&1 &)
	for _ in $(seq 90); do
		mariadb_up && break
		sleep 1
	done
	if ! mariadb_up; then
		echo "MariaDB did not start; its error log:"
		tail -n 20 /var/log/mysql/error.log 2>/dev/null || tail -n 20 /tmp/crm_mysqld_safe.log
		return 1
	fi
	started_mariadb=1
}

# The Redis ports the bench's sites use, from common_site_config.json.
redis_ports() {
	python3 - "$bench/sites/common_site_config.json" <<'EOF'
import json, sys
from urllib.parse import urlparse
config = json.load(open(sys.argv[1]))
ports = {urlparse(config[key]).port for key in ("redis_cache", "redis_queue", "redis_socketio") if config.get(key)}
print(" ".join(str(port) for port in sorted(ports)))
EOF
}

port_in_use() {
	python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(0 if s.connect_ex(('127.0.0.1', int(sys.argv[1]))) == 0 else 1)" "$1"
}

# Something that holds the port but is not Redis would leave redis-cli waiting: bounded.
redis_alive() { [ "$(timeout 3 redis-cli -p "$1" ping 2>/dev/null)" = "PONG" ]; }

start_redis() {
	local port
	for port in $(redis_ports); do
		redis_alive "$port" && continue
		if port_in_use "$port"; then
			echo "Port $port is in use by something that is not Redis. Stop it, or give the bench other ports:"
			echo "edit redis_cache / redis_queue / redis_socketio in $bench/sites/common_site_config.json"
			return 1
		fi
		say "Starting Redis on port $port"
		redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no >/dev/null || return 1
		started_redis_ports+=("$port")
	done
}

start_services() {
	start_mariadb && start_redis
}

stop_started_services() {
	local port
	for port in "${started_redis_ports[@]}"; do
		redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
	done
	started_redis_ports=()
	if [ "$started_mariadb" -eq 1 ]; then
		kill "$(cat /run/mysqld/mysqld.pid 2>/dev/null)" 2>/dev/null
		for _ in $(seq 60); do
			mariadb_up || break
			sleep 1
		done
		started_mariadb=0
	fi
}

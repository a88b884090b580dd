#!/usr/bin/env bash
# MariaDB restarted during a burst of 2,000 signed webhook deliveries from 8 retrying clients
# (benchmarks/faults/db_restart.py). Writes benchmarks/results/fault_db_restart.json.
#   CRM_TEST_SITE=fix2.localhost bash benchmarks/faults/db_restart.sh
#
# The bench's shared MariaDB is never restarted: this script starts a MariaDB of its own (datadir
# /tmp/crm-faults-mysql, port $CRM_FAULTS_DB_PORT, default 3307), loads a dump of the site's database into
# it under a database name of its own (so the bench's Redis keys, prefixed by database name, do not mix with
# the site's), and makes a site copy faults.localhost that points at it, served by gunicorn (4 workers, as
# benchmarks/run.sh serves a site) on port $CRM_FAULTS_WEB_PORT (default 8012). On exit, whatever happened,
# the web server and that MariaDB are stopped, the datadir and the site copy removed, and the copy's jobs
# taken off the bench's queues.
#
# Also called by db_restart.py (as root) to restart its MariaDB: db_restart.sh db-kill|db-stop|db-start
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
app=crm_extension
bench=${FRAPPE_BENCH:-$(eval echo ~frappe)/frappe-bench}
results=$repo/benchmarks/results
db_port=${CRM_FAULTS_DB_PORT:-3307}
web_port=${CRM_FAULTS_WEB_PORT:-8012}
datadir=/tmp/crm-faults-mysql
socket=/tmp/crm-faults-mysql.sock
db_pid_file=/tmp/crm-faults-mysql.pid
copy=faults.localhost
copy_db=_crm_faults_copy
work=/tmp/crm-faults-db-restart
say() { printf '\n== %s\n' "$*"; }

# --- the MariaDB of this run -----------------------------------------------------------------------------

db() { mariadb --no-defaults -S "$socket" -uroot "$@"; }
db_up() { mariadb-admin --no-defaults -S "$socket" -uroot ping --silent >/dev/null 2>&1; }

db_start() {
	mariadbd --no-defaults --datadir="$datadir" --socket="$socket" --port="$db_port" \
		--bind-address=127.0.0.1 --user=mysql --pid-file="$db_pid_file" --log-error="$datadir/error.log" \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
		--character-set-client-handshake=FALSE --innodb-buffer-pool-size=256M --max-connections=200 \
		--skip-log-bin --innodb-flush-log-at-trx-commit=1 >/dev/null 2>&1 &
	disown  # its kill -9 is the point: no "Killed" notice from this shell
	local waited
	for waited in $(seq 120); do
		db_up && { echo "$waited"; return 0; }
		sleep 0.5
	done
	echo "MariaDB on port $db_port did not start; its error log:" >&2
	tail -n 20 "$datadir/error.log" >&2
	return 1
}

db_kill() {
	[ -s "$db_pid_file" ] && kill -9 "$(cat "$db_pid_file")" 2>/dev/null
	for _ in $(seq 100); do
		[ -s "$db_pid_file" ] && kill -0 "$(cat "$db_pid_file")" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$db_pid_file" "$socket"
}

db_stop() {
	mariadb-admin --no-defaults -S "$socket" -uroot shutdown 2>/dev/null
	for _ in $(seq 600); do
		[ -s "$db_pid_file" ] && kill -0 "$(cat "$db_pid_file")" 2>/dev/null || return 0
		sleep 0.1
	done
	db_kill
}

case "${1:-run}" in
	db-kill) db_kill; exit 0 ;;
	db-stop) db_stop; exit 0 ;;
	db-start) db_start >/dev/null; exit $? ;;
	run) ;;
	*) echo "usage: $0 [run|db-kill|db-stop|db-start]"; exit 2 ;;
esac

# --- setup and teardown ------------------------------------------------------------------------------------

[ -d "$bench/apps/frappe" ] || { echo "No bench at '$bench' (set FRAPPE_BENCH)"; exit 1; }
# shellcheck source=scripts/frappe_suite.sh
source "$repo/scripts/frappe_suite.sh"

server=""
finish() {
	if [ -n "$server" ]; then
		kill -TERM -- "-$server" 2>/dev/null  # gunicorn's master and workers: its own process group
		wait "$server" 2>/dev/null
	fi
	if [ -f "$bench/sites/$copy/site_config.json" ]; then
		site=$copy site_call benchmarks.faults.db_restart_setup purge_jobs >/dev/null 2>&1
	fi
	db_stop
	rm -rf "$datadir" "$work" "${bench:?}/sites/$copy"
	cleanup_frappe_suite
}
trap finish EXIT

start_services || exit 1
prepare_app_source
add_to_apps_txt
pick_site || exit 1
app_installed || { echo "$app is not installed on $site: install it there first"; exit 1; }
[ -e "$bench/sites/$copy" ] && { echo "$bench/sites/$copy exists: remove it (a run that did not finish?)"; exit 1; }
if db_up || port_in_use "$db_port" || port_in_use "$web_port"; then
	echo "Port $db_port or $web_port is in use (set CRM_FAULTS_DB_PORT / CRM_FAULTS_WEB_PORT)"
	exit 1
fi
source_db=$("$bench/env/bin/python" -c "import json,sys; print(json.load(open(sys.argv[1]))['db_name'])" \
	"$bench/sites/$site/site_config.json")

say "A MariaDB of this run on port $db_port ($datadir)"
rm -rf "$datadir" && mkdir -p "$datadir" "$work" && chown mysql:mysql "$datadir"
mariadb-install-db --no-defaults --datadir="$datadir" --user=mysql --skip-test-db \
	--auth-root-authentication-method=socket >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
db_start >/dev/null || exit 1

say "A copy of $site's database ($source_db) as $copy_db"
password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
db -e "create database \`$copy_db\` character set utf8mb4 collate utf8mb4_unicode_ci;
	create user '$copy_db'@'localhost' identified by '$password';
	create user '$copy_db'@'127.0.0.1' identified by '$password';
	grant all privileges on \`$copy_db\`.* to '$copy_db'@'localhost';
	grant all privileges on \`$copy_db\`.* to '$copy_db'@'127.0.0.1';" || exit 1
started=$(date +%s)
mariadb-dump -uroot -p"${CRM_DB_ROOT_PASSWORD:-admin}" --single-transaction --quick --routines "$source_db" \
	| db "$copy_db" || exit 1
echo "loaded in $(($(date +%s) - started)) s: $(db -N -e "select count(*) from information_schema.tables where table_schema = '$copy_db'") tables"

say "Site $copy: $site's config, pointed at that database"
mkdir -p "$bench/sites/$copy/logs" "$bench/sites/$copy/private/files" "$bench/sites/$copy/public/files"
"$bench/env/bin/python" - "$bench/sites/$site/site_config.json" "$bench/sites/$copy/site_config.json" \
	"$copy_db" "$password" "$db_port" <<'PY'
import json, sys
source, target, name, password, port = sys.argv[1:6]
config = json.load(open(source))  # its encryption_key too: the copied passwords are encrypted with it
config.update(db_name=name, db_user=name, db_password=password, db_host="127.0.0.1", db_port=int(port))
config["crm_inbound_client_rate_limit"] = 1_000_000  # the 8 clients share one address: no 429 here
json.dump(config, open(target, "w"), indent=1)
PY
chown -R "$bench_user" "$bench/sites/$copy" "$work"
site=$copy
credentials=$work/credentials.json
site_call benchmarks.faults.db_restart_setup prepare >"$credentials" || exit 1

say "gunicorn, 4 workers, port $web_port"
(cd "$bench/sites" && exec setsid runuser -u "$bench_user" -- env PYTHONPATH="$app_src" PYTHONDONTWRITEBYTECODE=1 \
	../env/bin/gunicorn -b "127.0.0.1:$web_port" -w 4 -t 120 --preload frappe.app:application \
	>"$work/gunicorn.log" 2>&1) &
server=$!
for _ in $(seq 60); do
	curl -s -o /dev/null -H "X-Frappe-Site-Name: $copy" "http://127.0.0.1:$web_port/api/method/ping" && break
	sleep 1
done

say "2,000 signed deliveries from 8 retrying clients; MariaDB killed (-9) and restarted, then shut down cleanly and restarted, mid-burst"
mkdir -p "$results"
output=$("$bench/env/bin/python" "$repo/benchmarks/faults/db_restart.py" "http://127.0.0.1:$web_port" \
	"$credentials" "$0" "$socket" "$copy_db") || { echo "$output"; exit 1; }
printf '%s\n' "$output" | "$bench/env/bin/python" -m json.tool >"$results/fault_db_restart.json" || exit 1
cat "$results/fault_db_restart.json"
echo "Exceptions in the server's log (gunicorn), by type:"
grep -oE '^[A-Za-z_.]+(Error|Exception)\b' "$work/gunicorn.log" | sort | uniq -c
"$bench/env/bin/python" -c "import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))['check']['passed'] else 1)" \
	"$results/fault_db_restart.json"

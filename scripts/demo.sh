#!/usr/bin/env bash
# The product in front of a person in one command: builds or reuses the bench (scripts/bench.sh), makes or
# refreshes the site demo.localhost with ERPNext and this app, fills it with two years of generated history
# (crm_extension/demo, through the host's own documents), runs the app's jobs, then starts a web server, a
# worker and the scheduler and prints the URL and the logins.
#
#   scripts/demo.sh              English demo (a US company, USD)
#   scripts/demo.sh --lang fa    Persian demo (an Iranian company, IRR, Persian names and desk)
#   scripts/demo.sh stop         stop the web server, worker and scheduler it started
#
# Environment:
#   CRM_DEMO_PORT    web server port (default 8000)
#   CRM_DEMO_SITE    site name (default demo.localhost)
#   FRAPPE_BENCH     bench folder (default ~frappe/frappe-bench), built by scripts/bench.sh when missing
#
# A second run refreshes the data in place: the generator first deletes what the previous run made for
# the demo company, then makes it again from the same seed (no duplicates). A run in the other language
# drops the site and makes it again (each language has its own company, currency and fiscal calendar).
#
# How the app is known to the bench: as scripts/frappe.sh does it (--dev-install: crm_extension in
# sites/apps.txt, its Python dependencies in the bench's env) and every process started here runs with
# this checkout first on PYTHONPATH. Not a copy under apps/ (the demo shows this checkout as it is) and not
# `pip install -e` (the bench user cannot write into the checkout, and an editable install would change the
# bench's env for everyone using it). Use scripts/frappe.sh for bench commands on the demo site.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=${FRAPPE_BENCH:-$(eval echo ~frappe)/frappe-bench}
site=${CRM_DEMO_SITE:-demo.localhost}
port=${CRM_DEMO_PORT:-8000}
db_root_password=${CRM_DB_ROOT_PASSWORD:-admin}
run_dir=/tmp/crm_demo/$site
lang=en
action=start
started=$(date +%s)

usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
	case "$1" in
	stop) action=stop ;;
	--lang) lang=${2:-}; shift ;;
	--lang=*) lang=${1#--lang=} ;;
	-h | --help) usage; exit 0 ;;
	*) echo "Unknown argument: $1"; usage; exit 2 ;;
	esac
	shift
done
case "$lang" in en | fa) ;; *) echo "--lang must be en or fa, not '$lang'"; exit 2 ;; esac

phase_started=0
phase() { phase_started=$(date +%s); printf '\n== demo: %s\n' "$1"; }
phase_done() { printf '   %s (%ss)\n' "$1" "$(($(date +%s) - phase_started))"; }
fail() { printf '\ndemo.sh FAILED: %s\n' "$1" >&2; [ -n "${2:-}" ] && [ -s "$2" ] && tail -n 25 "$2" >&2; exit 1; }

# ---------------------------------------------------------------- the servers it starts
SERVERS=(web worker scheduler)

server_pid() { cat "$run_dir/$1.pid" 2>/dev/null; }
alive() { local stat; stat=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$stat" ] && [[ $stat != Z* ]]; }
server_running() { local pid; pid=$(server_pid "$1") && [ -n "$pid" ] && alive "$pid"; }

stop_servers() {
	local name pid stopped=()
	for name in "${SERVERS[@]}"; do
		if server_running "$name"; then
			pid=$(server_pid "$name")
			kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
			for _ in $(seq 20); do alive "$pid" || break; sleep 0.5; done
			kill -KILL -- "-$pid" 2>/dev/null
			stopped+=("$name")
		fi
		rm -f "$run_dir/$name.pid"
	done
	echo "${stopped[*]:-}"
}

if [ "$action" = stop ]; then
	stopped=$(stop_servers)
	echo "demo servers of $site stopped: ${stopped:-none were running}"
	exit 0
fi

# ---------------------------------------------------------------- bench, services, the app
phase "bench (scripts/bench.sh)"
bench_log=/tmp/crm_demo_bench.log
CRM_KEEP_SERVICES=1 FRAPPE_BENCH=$bench bash "$repo/scripts/bench.sh" >"$bench_log" 2>&1 || fail "scripts/bench.sh failed" "$bench_log"
phase_done "$(tail -n 1 "$bench_log" | sed 's/^== //')"

# shellcheck source=scripts/lib/services.sh
source "$repo/scripts/lib/services.sh"
start_services >/dev/null || fail "MariaDB or Redis did not start"
mkdir -p "$run_dir" && chmod 777 "$run_dir"

frappe_cli() { # args... (Frappe's CLI in the bench's sites folder, as the bench user, with this checkout)
	(cd "$bench/sites" && as_bench_user env PYTHONPATH="$repo" PYTHONDONTWRITEBYTECODE=1 \
		../env/bin/python -m frappe.utils.bench_helper frappe "$@")
}

stopped=$(stop_servers)
[ -n "$stopped" ] && echo "   stopped the demo's running servers ($stopped); they start again at the end"
if port_in_use "$port"; then
	fail "port $port is in use by another program. Stop it, or choose another port: CRM_DEMO_PORT=8010 scripts/demo.sh"
fi

phase "app known to the bench"
"$repo/scripts/frappe.sh" --dev-install >/dev/null 2>&1 || fail "scripts/frappe.sh --dev-install failed"
phase_done "crm_extension in apps.txt, this checkout on PYTHONPATH"

# ---------------------------------------------------------------- the site
site_config() { # key
	python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ''))" \
		"$bench/sites/$site/site_config.json" "$1" 2>/dev/null
}

# Changes when the app's schema or install code does: the site is migrated then.
app_schema_hash() {
	(cd "$repo" && find crm_extension -name '*.json' -o -name 'patches.txt' -o -path '*/setup/*.py' -o -name 'custom_fields.py' \
		| sort | xargs cat | sha256sum | cut -c1-16)
}

building=$bench/sites/.crm_demo_building_$site

drop_site() { # why
	echo "   $1: dropping $site"
	frappe_cli drop-site "$site" --force --no-backup --db-root-username root --db-root-password "$db_root_password" \
		>>"$run_dir/site.log" 2>&1 || fail "could not drop $site" "$run_dir/site.log"
	rm -rf "${bench:?}/sites/$site"
}

make_site() {
	local log=$run_dir/site.log
	: >"$log"
	as_bench_user touch "$building"
	echo "   new site $site with ERPNext and crm_extension (about 3 minutes)"
	frappe_cli new-site "$site" --db-root-username root --db-root-password "$db_root_password" \
		--admin-password admin --install-app erpnext --install-app crm_extension >>"$log" 2>&1 \
		|| fail "bench new-site $site failed" "$log"
	echo "   ERPNext's setup for the demo company"
	frappe_cli --site "$site" execute crm_extension.demo.site.complete_setup --kwargs "{\"lang\": \"$lang\"}" >>"$log" 2>&1 \
		|| fail "the setup of $site failed" "$log"
	frappe_cli --site "$site" set-config crm_demo_lang "$lang" >>"$log" 2>&1
	frappe_cli --site "$site" set-config mute_emails 1 >>"$log" 2>&1
	frappe_cli --site "$site" set-config crm_demo_app_schema "$(app_schema_hash)" >>"$log" 2>&1
	rm -f "$building"
}

phase "site $site ($lang)"
if [ -f "$building" ] && [ -d "$bench/sites/$site" ]; then
	drop_site "an earlier creation did not finish"
elif [ -f "$bench/sites/$site/site_config.json" ] && [ -z "$(site_config crm_demo_lang)" ]; then
	fail "$site exists but was not made by scripts/demo.sh, so it is left alone: drop it (scripts/frappe.sh drop-site $site) or choose another name (CRM_DEMO_SITE=mydemo.localhost)"
elif [ -f "$bench/sites/$site/site_config.json" ] && [ "$(site_config crm_demo_lang)" != "$lang" ]; then
	drop_site "the site holds the '$(site_config crm_demo_lang)' demo, '$lang' was asked for"
fi
if [ ! -f "$bench/sites/$site/site_config.json" ]; then
	make_site
	phase_done "made $site"
elif [ "$(site_config crm_demo_app_schema)" != "$(app_schema_hash)" ]; then
	frappe_cli --site "$site" migrate --skip-search-index >"$run_dir/site.log" 2>&1 || fail "migrate of $site failed" "$run_dir/site.log"
	frappe_cli --site "$site" set-config crm_demo_app_schema "$(app_schema_hash)" >/dev/null 2>&1
	phase_done "reusing $site, migrated to this checkout's app"
else
	phase_done "reusing $site"
fi

# ---------------------------------------------------------------- the data
phase "demo data (crm_extension.demo.run.generate)"
data_log=$run_dir/data.log
frappe_cli --site "$site" execute crm_extension.demo.run.generate --kwargs "{\"lang\": \"$lang\"}" 2>&1 \
	| tee "$data_log" | grep --line-buffered -E '^(--|   )'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "the generator failed (log: $data_log)" "$data_log"
counts=$(tail -n 1 "$data_log" | python3 -c "import json,sys; print(', '.join(f'{v} {k}' for k, v in json.load(sys.stdin).items() if k != 'seconds'))")

# ---------------------------------------------------------------- servers
phase "web server, worker and scheduler"
frappe_cli --site "$site" enable-scheduler >/dev/null 2>&1
start_server() { # name args...
	local name=$1
	shift
	# setsid: the server and what it starts form a process group of their own, whose id is in the pid file
	(cd "$bench/sites" || exit 1
		setsid runuser -u "$(bench_owner)" -- env PYTHONPATH="$repo" PYTHONDONTWRITEBYTECODE=1 \
			../env/bin/python -m frappe.utils.bench_helper frappe "$@" >"$run_dir/$name.log" 2>&1 &
		echo $! >"$run_dir/$name.pid")
}
start_server web --site "$site" serve --port "$port" --noreload
start_server worker worker --queue short,default,long
start_server scheduler schedule
for _ in $(seq 60); do
	curl -s -o /dev/null -H "Host: $site" "http://127.0.0.1:$port/login" && break
	sleep 1
done
curl -s -o /dev/null -H "Host: $site" "http://127.0.0.1:$port/login" || fail "the web server did not answer on port $port" "$run_dir/web.log"
phase_done "pids in $run_dir (logs beside them)"

if ! grep -qE "^[^#]*[[:space:]]$site([[:space:]]|\$)" /etc/hosts; then
	if [ -w /etc/hosts ]; then
		printf '127.0.0.1\t%s\n' "$site" >>/etc/hosts
		hosts_note="added '127.0.0.1 $site' to /etc/hosts"
	else
		hosts_note="add '127.0.0.1 $site' to /etc/hosts (or open http://127.0.0.1:$port with the Host header $site)"
	fi
else
	hosts_note="$site resolves through /etc/hosts"
fi

cat <<EOF

== demo ready in $(($(date +%s) - started))s: http://$site:$port   ($hosts_note)
   created: $counts

   Log in as (password: demo)
     sales1@demo.localhost, sales2@demo.localhost, sales3@demo.localhost   Sales Users, each with own Leads
     manager@demo.localhost                                                Sales Manager (rules, tiers, playbooks)
   Administrator / admin for everything else.

   Stop the web server, worker and scheduler: scripts/demo.sh stop
   Bench commands on the demo site: scripts/frappe.sh --site $site <command>
EOF

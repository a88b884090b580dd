#!/usr/bin/env bash
# Runs the benchmarks on an existing bench ($FRAPPE_BENCH, default ~frappe/frappe-bench) and writes
# benchmarks/results/<name>.json. Usage: bash benchmarks/run.sh [timeline|http|leads|value|playbook|sequences|all]   (default: all)
#
# Like scripts/test.sh it starts MariaDB/Redis if they are down, installs this checkout into the
# bench's current site if it is not installed yet (and uninstalls it again afterwards), and builds nothing.
# The HTTP benchmarks serve the site with gunicorn (4 workers, as a 2-core production bench would) on
# loopback and load it from this machine.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
app=crm_extension
bench=${FRAPPE_BENCH:-$(eval echo ~frappe)/frappe-bench}
which=${1:-all}
bench_port=${CRM_BENCH_PORT:-8002}
results=$repo/benchmarks/results

say() { printf '\n== %s\n' "$*"; }

if [ ! -d "$bench/apps/frappe" ]; then
	echo "No bench at '$bench': the benchmarks need a bench with ERPNext v15 (set FRAPPE_BENCH)"
	exit 1
fi

# shellcheck source=scripts/frappe_suite.sh
source "$repo/scripts/frappe_suite.sh"

installed_here=0
finish() {
	[ "$installed_here" -eq 1 ] && frappe_cli --site "$site" uninstall-app "$app" --yes --no-backup >/dev/null
	cleanup_frappe_suite
}
trap finish EXIT

prepare() {
	start_services || return 1
	prepare_app_source
	install_python_dependencies || return 1
	add_to_apps_txt
	pick_site || return 1
	frappe_cli --site "$site" clear-cache || return 1
	if ! app_installed; then
		frappe_cli --site "$site" install-app "$app" || return 1
		installed_here=1
	fi
	mkdir -p "$results"
}

save() {
	local name=$1 json=$2
	printf '%s\n' "$json" | "$bench/env/bin/python" -m json.tool >"$results/$name.json"
	cat "$results/$name.json"
}

timeline_benchmark() {
	say "Timeline: first page of a 10,000-item feed vs a primary-key fetch"
	save activity_timeline "$(site_call benchmarks.activity_log.timeline run)"
}

http_benchmarks() {
	local credentials server status=0
	credentials=$(mktemp /tmp/crm_bench_credentials.XXXXXX)
	chown "$bench_user" "$credentials"
	site_call benchmarks.activity_log.http_setup prepare >"$credentials"
	(cd "$bench/sites" && as_bench_user env PYTHONPATH="$app_src" PYTHONDONTWRITEBYTECODE=1 \
		../env/bin/gunicorn -b "127.0.0.1:$bench_port" -w 4 -t 120 --preload frappe.app:application \
		>/tmp/crm_bench_gunicorn.log 2>&1) &
	server=$!
	for _ in $(seq 60); do
		curl -s -o /dev/null -H "X-Frappe-Site-Name: $site" "http://127.0.0.1:$bench_port/api/method/ping" && break
		sleep 1
	done
	say "API throughput: activity.log vs /api/resource"
	save activity_log_throughput \
		"$(as_bench_user "$bench/env/bin/python" "$app_src/benchmarks/activity_log/http_load.py" throughput "http://127.0.0.1:$bench_port" "$credentials")" || status=1
	say "Inbound webhook: 2,000 deliveries, 20% redelivered, 8 clients"
	local load outcome
	load=$(as_bench_user "$bench/env/bin/python" "$app_src/benchmarks/activity_log/http_load.py" webhook "http://127.0.0.1:$bench_port" "$credentials") || status=1
	outcome=$(site_call benchmarks.activity_log.http_setup webhook_outcome)
	save inbound_webhook "{\"load\": $load, \"stored\": $outcome}"
	pkill -f "gunicorn -b 127.0.0.1:$bench_port" 2>/dev/null
	wait "$server" 2>/dev/null
	site_call benchmarks.activity_log.http_setup cleanup >/dev/null
	rm -f "$credentials"
	return $status
}

leads_benchmarks() {
	# Recompute and save overhead of lead scoring. The save is compared with a site that has ERPNext but not
	# this app ($CRM_BENCH_BARE_SITE, default bare.localhost: bench new-site ... --install-app erpnext, then
	# execute erpnext.setup.utils.before_tests), in alternating rounds so both see the same machine load.
	local status=0 bare=${CRM_BENCH_BARE_SITE:-bare.localhost} lines
	say "Lead scoring: full recompute of 100,000 Leads with 1,000,000 feed items vs one set-based SQL pass"
	# seeded in a process of its own: a pass measured in the process that seeded is slower (recompute.seed_only)
	site_call benchmarks.lead_scoring.recompute seed_only || status=1
	save lead_recompute "$(CRM_BENCH_LEAD_REUSE_SEED=1 site_call benchmarks.lead_scoring.recompute run)" || status=1
	if [ ! -f "$bench/sites/$bare/site_config.json" ] \
		|| frappe_cli --site "$bare" list-apps 2>/dev/null | grep -q "^$app\b"; then
		echo "No site '$bare' without $app (set CRM_BENCH_BARE_SITE): lead save overhead not measured"
		return 1
	fi
	say "Lead save: $site (with $app) vs $bare (ERPNext only), 3 alternating rounds of 300 saves"
	lines=$(mktemp /tmp/crm_bench_lead_save.XXXXXX)
	chown "$bench_user" "$lines"
	for _ in 1 2 3; do
		site_call benchmarks.lead_scoring.lead_save run >>"$lines" || status=1
		(site=$bare && site_call benchmarks.lead_scoring.lead_save run) >>"$lines" || status=1
	done
	save lead_save "$(cd "$bench/sites" && as_bench_user env PYTHONPATH="$app_src" PYTHONDONTWRITEBYTECODE=1 \
		../env/bin/python -m benchmarks.lead_scoring.lead_save combine "$lines")" || status=1
	rm -f "$lines"
	return $status
}

value_benchmark() {
	say "Customer value: recompute of 50,000 customers and 1,000,000 invoice lines vs one raw GROUP BY"
	save customer_value_recompute "$(site_call benchmarks.customer_value.recompute run)"
}

playbook_benchmarks() {
	# guide() against a primary-key get_doc of the same Opportunity, then creating an Opportunity with the app
	# (its playbook attaches) against a site with ERPNext only ($CRM_BENCH_BARE_SITE, as for leads), both sites
	# from one process in alternating batches.
	local status=0 bare=${CRM_BENCH_BARE_SITE:-bare.localhost}
	say "Playbook guide: guide() vs frappe.get_doc of the same Opportunity, 400 closed deals to learn from"
	save playbook_guide "$(site_call benchmarks.sales_playbook.guide run)" || status=1
	if [ ! -f "$bench/sites/$bare/site_config.json" ] \
		|| frappe_cli --site "$bare" list-apps 2>/dev/null | grep -q "^$app\b"; then
		echo "No site '$bare' without $app (set CRM_BENCH_BARE_SITE): Opportunity create overhead not measured"
		return 1
	fi
	say "Opportunity create: $site (with $app) vs $bare (ERPNext only), 20 alternating batches of 15"
	save playbook_create "$(cd "$bench/sites" && as_bench_user env PYTHONPATH="$app_src" PYTHONDONTWRITEBYTECODE=1 \
		../env/bin/python -m benchmarks.sales_playbook.create compare "$site" "$bare" | tail -n 1)" || status=1
	return $status
}

sequences_benchmark() {
	say "Sequences: 1,100 of 10,100 enrollments due, 2 workers, vs the host's plain Email Queue insert"
	local status=0
	save sequences_due_pass "$(site_call benchmarks.sequences.due_pass run)" || status=1
	say "Sequences: saving a Lead and logging an activity with and without the sequence hooks"
	save sequences_save_overhead "$(site_call benchmarks.sequences.save_overhead run)" || status=1
	return $status
}

prepare || exit 1
failures=0
case $which in
	timeline) timeline_benchmark || failures=1 ;;
	http) http_benchmarks || failures=1 ;;
	leads) leads_benchmarks || failures=1 ;;
	value) value_benchmark || failures=1 ;;
	playbook) playbook_benchmarks || failures=1 ;;
	sequences) sequences_benchmark || failures=1 ;;
	all) timeline_benchmark || failures=1; http_benchmarks || failures=1; leads_benchmarks || failures=1; value_benchmark || failures=1
		playbook_benchmarks || failures=1; sequences_benchmark || failures=1 ;;
	*) echo "unknown benchmark '$which' (timeline|http|leads|value|playbook|sequences|all)"; exit 2 ;;
esac
exit $failures

#!/usr/bin/env bash
# The four fault scenarios of docs/FAULTS.md, on an existing bench and a site with the app installed and
# allow_tests on:
#   CRM_TEST_SITE=fix2.localhost bash benchmarks/faults/run.sh [all|redis|input|worker|db]   (default: all)
#
#   redis   Redis down while a salesperson saves a Lead or logs an activity  (Frappe test test_redis_down)
#   input   bad input through every whitelisted method, as a Sales User      (Frappe test test_bad_input)
#   worker  a worker killed (SIGKILL) inside an uncommitted write of a full lead rescore and of a customer
#           value recompute (worker_killed.py, in the site; the jobs run on a worker and queue of its own)
#           -> benchmarks/results/fault_worker_killed.json
#   db      MariaDB killed and restarted during 2,000 webhook deliveries from 8 retrying clients, on a
#           MariaDB, site copy and server of its own (db_restart.sh; the bench's MariaDB is not touched)
#           -> benchmarks/results/fault_db_restart.json
# Restarts nothing shared, flushes nothing; exits non-zero if any scenario failed.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
app=crm_extension
bench=${FRAPPE_BENCH:-$(eval echo ~frappe)/frappe-bench}
results=$repo/benchmarks/results
which=${1:-all}

[ -d "$bench/apps/frappe" ] || { echo "No bench at '$bench' (set FRAPPE_BENCH)"; exit 1; }
# shellcheck source=scripts/frappe_suite.sh
source "$repo/scripts/frappe_suite.sh"
trap cleanup_frappe_suite EXIT

start_services || exit 1
prepare_app_source
add_to_apps_txt
pick_site || exit 1
app_installed || { echo "$app is not installed on $site: install it there first"; exit 1; }
mkdir -p "$results"
declare -A outcome=()
order=()

# Frappe's run-tests exits 0 when tests fail (unless CI is set): the verdict is unittest's last word.
run_test() {
	local log status
	log=$(mktemp /tmp/crm_faults_test.XXXXXX)
	frappe_cli --site "$site" run-tests --module "$1" 2>&1 | tee "$log"
	grep -qE '^OK( \(|$)' "$log" && ! grep -qE '^FAILED \(' "$log"
	status=$?
	rm -f "$log"
	return $status
}

worker_killed() {
	local output
	output=$(site_call benchmarks.faults.worker_killed run) || return 1
	printf '%s\n' "$output" | "$bench/env/bin/python" -m json.tool >"$results/fault_worker_killed.json" || return 1
	cat "$results/fault_worker_killed.json"
	"$bench/env/bin/python" -c "import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))['passed'] else 1)" \
		"$results/fault_worker_killed.json"
}

scenario() {
	local name=$1
	shift
	say "$name ($site)"
	local started=$SECONDS
	order+=("$name")
	if "$@"; then outcome[$name]="passed"; else outcome[$name]="FAILED"; fi
	outcome[$name]+=" in $((SECONDS - started)) s"
}

case "$which" in all | redis) scenario "Redis down" run_test crm_extension.tests.test_redis_down ;; esac
case "$which" in all | input) scenario "Bad input" run_test crm_extension.tests.test_bad_input ;; esac
case "$which" in all | worker) scenario "Worker killed" worker_killed ;; esac
case "$which" in all | db) scenario "MariaDB restarted" env CRM_TEST_SITE="$site" bash "$repo/benchmarks/faults/db_restart.sh" ;; esac

say "Fault scenarios"
status=0
for name in "${order[@]}"; do
	echo "$name: ${outcome[$name]}"
	[[ ${outcome[$name]} == passed* ]] || status=1
done
[ ${#outcome[@]} -gt 0 ] || { echo "usage: $0 [all|redis|input|worker|db]"; status=2; }
exit $status

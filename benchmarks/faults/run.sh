#!/usr/bin/env bash
# Fault runs on an existing bench: a worker killed (SIGKILL) in the middle of a full lead rescore and of a
# customer value recompute (benchmarks/faults/worker_killed.py). Writes benchmarks/results/fault_worker_killed.json.
#   CRM_TEST_SITE=fix3.localhost bash benchmarks/faults/run.sh
# Like benchmarks/run.sh: installs this checkout into the site if it is not installed (and uninstalls it
# after), restarts nothing, flushes nothing; the jobs run on a worker of its own on a queue of its own.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
app=crm_extension
bench=${FRAPPE_BENCH:-$(eval echo ~frappe)/frappe-bench}
results=$repo/benchmarks/results
say() { printf '\n== %s\n' "$*"; }

[ -d "$bench/apps/frappe" ] || { echo "No bench at '$bench' (set FRAPPE_BENCH)"; exit 1; }
# shellcheck source=scripts/frappe_suite.sh
source "$repo/scripts/frappe_suite.sh"

installed_here=0
finish() {
	[ "$installed_here" -eq 1 ] && frappe_cli --site "$site" uninstall-app "$app" --yes --no-backup >/dev/null
	cleanup_frappe_suite
}
trap finish EXIT

start_services || exit 1
prepare_app_source
add_to_apps_txt
pick_site || exit 1
if ! app_installed; then
	frappe_cli --site "$site" install-app "$app" || exit 1
	installed_here=1
fi
mkdir -p "$results"
say "A worker killed in the middle of a full lead rescore and of a customer value recompute ($site)"
output=$(site_call benchmarks.faults.worker_killed run) || exit 1
printf '%s\n' "$output" | "$bench/env/bin/python" -m json.tool >"$results/fault_worker_killed.json" || exit 1
cat "$results/fault_worker_killed.json"

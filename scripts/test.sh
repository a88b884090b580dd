#!/usr/bin/env bash
# The project's one test command (README, .ci/run).
#
# 1. Engine suite: pytest over tests/ in a virtualenv of its own. Runs anywhere, no framework.
# 2. Bench: scripts/bench.sh builds a bench with ERPNext and the test site crm.localhost (or reuses the
#    one it built: seconds), then runs again to prove the second run is a no-op.
# 3. Frappe suite: the code of THIS checkout is installed into the test site, migrated twice, tested with
#    `run-tests --app crm_extension`, checked in a browser, then uninstalled again so the bench is left
#    as it was found. MariaDB and Redis are started when down, and stopped again afterwards.
#
# Environment:
#   CRM_BENCH_BUILD=0 the quick path: the engine suite only (says that the Frappe suite was skipped)
#   FRAPPE_BENCH     bench folder (default: ~frappe/frappe-bench); a complete bench not built by
#                    scripts/bench.sh is used as it is
#   CRM_TEST_SITE    site to test on (default: crm.localhost on a bench built by scripts/bench.sh, else the
#                    bench's current site); it needs allow_tests
#   CRM_KEEP_INSTALLED=1  leave the app installed on the site afterwards (a developer's fast loop)
#   CRM_FRAPPE_TESTS extra arguments for run-tests, e.g. "--module crm_extension.tests.test_install"
#   CRM_SCREENSHOTS  where the browser check saves its screenshots (default /tmp/crm_extension_screenshots;
#                    CRM_SCREENSHOTS=docs/screenshots refreshes the ones in the docs)
#   Building: CRM_FRAPPE_SOURCE, CRM_ERPNEXT_SOURCE, CRM_DB_ROOT_PASSWORD (see scripts/bench.sh)
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
app=crm_extension
failures=0

say() { printf '\n== %s\n' "$*"; }

run_engine_suite() {
	say "Engine suite (pytest, no framework)"
	local venv=${CRM_TEST_VENV:-$repo/.venv}
	if [ ! -x "$venv/bin/python" ]; then
		python3 -m venv "$venv" || return 1
	fi
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$repo[test]" || return 1
	say "Lint (ruff, as pre-commit runs it)"
	(cd "$repo" && "$venv/bin/ruff" check --no-cache . && "$venv/bin/ruff" format --check --no-cache .) || return 1
	say "Engine tests"
	(cd "$repo" && "$venv/bin/python" -m pytest -q -p no:cacheprovider)
}

run_engine_suite || failures=$((failures + 1))

# The Frappe suite needs a bench. CRM_BENCH_BUILD=0 is the quick path (engine suite only); FRAPPE_BENCH
# naming a complete bench uses it as it is; otherwise scripts/bench.sh builds one, or reuses the one it built.
bench_given=${FRAPPE_BENCH:+1}
bench=${FRAPPE_BENCH:-$(getent passwd frappe >/dev/null && eval echo ~frappe || echo /home/frappe)/frappe-bench}
export FRAPPE_BENCH=$bench

bench_is_complete() { [ -d "$bench/apps/frappe" ] && [ -x "$bench/env/bin/python" ]; }

if [ "${CRM_BENCH_BUILD:-1}" = "0" ]; then
	say "Frappe suite: SKIPPED - CRM_BENCH_BUILD=0 asks for the quick path (engine suite only); unset it to build or reuse a bench at '$bench' and run the Frappe suite, migrate/uninstall checks and browser check"
	[ "$failures" -eq 0 ]
	exit $?
fi

# shellcheck source=scripts/lib/services.sh
source "$repo/scripts/lib/services.sh"
mariadb_was_up=0
mariadb_up && mariadb_was_up=1
redis_were_up=""
if [ -f "$bench/sites/common_site_config.json" ]; then
	for port in $(redis_ports); do
		redis_alive "$port" && redis_were_up+=" $port"
	done
fi

# Stops what this command found stopped, whichever script started it.
stop_services_found_stopped() {
	local port
	[ -f "$bench/sites/common_site_config.json" ] || return 0
	for port in $(redis_ports); do
		case " $redis_were_up " in *" $port "*) ;; *) redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 ;; esac
	done
	if [ "$mariadb_was_up" -eq 0 ] && mariadb_up; then
		kill "$(cat /run/mysqld/mysqld.pid 2>/dev/null)" 2>/dev/null
		for _ in $(seq 60); do mariadb_up || break; sleep 1; done
	fi
}

if [ -n "$bench_given" ] && bench_is_complete && [ ! -f "$bench/sites/${CRM_TEST_SITE:-crm.localhost}/.crm_extension_site_ready" ]; then
	say "Using the bench at $bench as it is (FRAPPE_BENCH)"
else
	if bench_is_complete; then
		say "Bench: reusing $bench (scripts/bench.sh checks each phase; seconds)"
	else
		say "Bench: none at $bench - building one with scripts/bench.sh (system packages, MariaDB, Redis, Frappe, ERPNext, a test site, desk assets; about 15-20 minutes on a 2-core machine)"
	fi
	export CRM_TEST_SITE=${CRM_TEST_SITE:-crm.localhost}
	CRM_KEEP_SERVICES=1 bash "$repo/scripts/bench.sh" || { stop_services_found_stopped; say "FAILED: the bench could not be built"; exit 1; }
	say "Bench: second run of scripts/bench.sh must take seconds and change nothing"
	state_before=$(bash "$repo/scripts/bench.sh" --state)
	second_started=$(date +%s)
	CRM_KEEP_SERVICES=1 bash "$repo/scripts/bench.sh" >/tmp/crm_bench_second_run.log 2>&1 || { cat /tmp/crm_bench_second_run.log; failures=$((failures + 1)); }
	second_seconds=$(($(date +%s) - second_started))
	state_after=$(bash "$repo/scripts/bench.sh" --state)
	echo "second run: ${second_seconds}s, bench state $state_before -> $state_after"
	if [ "$state_before" != "$state_after" ] || [ "$second_seconds" -gt 30 ]; then
		echo "The second run of scripts/bench.sh was not an idempotent no-op within 30 s"
		failures=$((failures + 1))
	fi
	say "Bench recipe on bad input (tests/bench/bench_faults.sh)"
	bash "$repo/tests/bench/bench_faults.sh" || failures=$((failures + 1))
fi

# shellcheck source=scripts/frappe_suite.sh
source "$repo/scripts/frappe_suite.sh"
trap 'cleanup_frappe_suite; stop_services_found_stopped' EXIT
run_frappe_suite || failures=$((failures + 1))

if [ "$failures" -ne 0 ]; then
	say "FAILED: $failures suite(s) failed"
	exit 1
fi
say "All suites passed"

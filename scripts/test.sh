#!/usr/bin/env bash
# The project's one test command (README, .ci/run).
#
# 1. Engine suite: pytest over tests/ in a virtualenv of its own. Runs anywhere, no framework.
# 2. Frappe suite: when a bench exists at $FRAPPE_BENCH (default ~frappe/frappe-bench), the code of
#    THIS checkout is installed into a site of that bench, migrated twice, tested with
#    `run-tests --app crm_extension`, then uninstalled again so the bench is left as it was found.
#    MariaDB and Redis are started if they are not running, and stopped again afterwards.
#
# Environment:
#   FRAPPE_BENCH     bench folder (default: ~frappe/frappe-bench)
#   CRM_TEST_SITE    site to test on (default: the bench's current site); it needs allow_tests
#   CRM_KEEP_INSTALLED=1  leave the app installed on the site afterwards (a developer's fast loop)
#   CRM_FRAPPE_TESTS extra arguments for run-tests, e.g. "--module crm_extension.tests.test_install"
#   CRM_SCREENSHOTS  where the browser check saves its screenshots (default /tmp/crm_extension_screenshots;
#                    CRM_SCREENSHOTS=docs/screenshots refreshes the ones in the docs)
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
	(cd "$repo" && "$venv/bin/python" -m pytest -q -p no:cacheprovider)
}

run_engine_suite || failures=$((failures + 1))

bench=${FRAPPE_BENCH:-$(eval echo ~frappe)/frappe-bench}
if [ ! -d "$bench/apps/frappe" ] || [ ! -x "$bench/env/bin/python" ]; then
	say "Frappe suite: SKIPPED - no bench at '$bench' (set FRAPPE_BENCH to a frappe-bench with ERPNext v15)"
	[ "$failures" -eq 0 ]
	exit $?
fi

# shellcheck source=scripts/frappe_suite.sh
source "$repo/scripts/frappe_suite.sh"
trap cleanup_frappe_suite EXIT
run_frappe_suite || failures=$((failures + 1))

if [ "$failures" -ne 0 ]; then
	say "FAILED: $failures suite(s) failed"
	exit 1
fi
say "All suites passed"

#!/usr/bin/env bash
# A developer's `bench` for this checkout: runs Frappe's CLI on the bench with THIS checkout's code first
# on the path, starting MariaDB and Redis when they are down (and leaving them running).
#   scripts/frappe.sh --site crm.localhost run-tests --module crm_extension.activity_log.tests.test_activity_api
#   scripts/frappe.sh --site crm.localhost console
# The app must be known to the bench: scripts/frappe.sh --dev-install adds it to apps.txt and installs its
# Python dependencies into the bench's env (what `bench get-app` would do), without copying the code.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=${FRAPPE_BENCH:-$(eval echo ~frappe)/frappe-bench}
[ -x "$bench/env/bin/python" ] || { echo "No bench at $bench: run scripts/bench.sh first"; exit 1; }

# shellcheck source=scripts/lib/services.sh
source "$repo/scripts/lib/services.sh"
start_services >&2 || exit 1

if [ "${1:-}" = "--dev-install" ]; then
	deps=$(python3 -c "import tomllib; project = tomllib.load(open('$repo/pyproject.toml', 'rb'))['project']; print(' '.join(project['dependencies'] + project['optional-dependencies']['test']))")
	# shellcheck disable=SC2086
	as_bench_user "$bench/env/bin/python" -m pip install --quiet --disable-pip-version-check $deps || exit 1
	grep -qx crm_extension "$bench/sites/apps.txt" || { printf '\ncrm_extension\n' >>"$bench/sites/apps.txt"; sed -i '/^$/d' "$bench/sites/apps.txt"; }
	echo "crm_extension is in $bench/sites/apps.txt; its dependencies are in the bench's env"
	exit 0
fi

cd "$bench/sites" && exec runuser -u "$(bench_owner)" -- env PYTHONPATH="$repo" PYTHONDONTWRITEBYTECODE=1 \
	../env/bin/python -m frappe.utils.bench_helper frappe "$@"

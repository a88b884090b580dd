# Sourced by scripts/frappe_suite.sh when desk assets are built: serves the site and runs
# tests/browser/desk_check.py (Playwright with Debian's Chromium) at phone and desktop size, then the
# salesperson's journeys (tests/browser/journeys.py) on the same served site; a failing journey fails the phase.

browser_check() {
	say "Browser check (desk at 390x844 and desktop)"
	command -v chromium >/dev/null || apt-get install -y -qq chromium >/dev/null || return 1
	local venv=${CRM_TEST_VENV:-$repo/.venv} port=${CRM_BROWSER_PORT:-8001} fixtures execute status=0
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$repo[browser]" || return 1
	# The checks must be able to fail: a deliberately broken row has to be reported (skipped by the engine
	# suite where Playwright or Chromium is missing, so run here, where both are).
	say "Browser check can fail: a broken fixture is reported (tests/browser)"
	(cd "$repo" && "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/browser) || return 1
	fixtures=$(mktemp /tmp/crm_browser_fixtures.XXXXXX)
	frappe_cli --site "$site" execute crm_extension.tests.browser_fixtures.prepare | tail -n 1 >"$fixtures"
	(cd "$bench/sites" && as_bench_user env PYTHONPATH="$app_src" PYTHONDONTWRITEBYTECODE=1 \
		../env/bin/python -m frappe.utils.bench_helper frappe --site "$site" serve --port "$port" --noreload >/tmp/crm_browser_serve.log 2>&1) &
	local server=$!
	for _ in $(seq 60); do
		curl -s -o /dev/null "http://$site:$port/login" && break
		sleep 1
	done
	"$venv/bin/python" "$repo/tests/browser/desk_check.py" "http://$site:$port" "$fixtures" "${CRM_SCREENSHOTS:-/tmp/crm_extension_screenshots}" || status=1
	say "Journeys (tests/browser/journeys.py) as a Sales User, a Sales Manager and a Persian user"
	execute=$(site_execute_command)
	CRM_SITE_EXECUTE="$execute --site $site" "$venv/bin/python" "$repo/tests/browser/journeys.py" \
		"http://$site:$port" "$fixtures" "${CRM_SCREENSHOTS:-/tmp/crm_extension_screenshots}" || status=1
	rm -f "$execute"
	pkill -f "serve --port $port --noreload" 2>/dev/null
	wait "$server" 2>/dev/null
	frappe_cli --site "$site" execute crm_extension.tests.browser_fixtures.cleanup >/dev/null
	rm -f "$fixtures"
	return $status
}

# A command the journeys run `bench execute` with (the queued scoring job, run without a worker): Frappe's CLI
# on this site's bench as its user, with the app's code on the path, as frappe_cli does.
site_execute_command() {
	local file as_user=""
	file=$(mktemp /tmp/crm_site_execute.XXXXXX)
	[ "$(id -un)" = "$bench_user" ] || as_user="runuser -u $bench_user --"
	cat >"$file" <<EOF
#!/usr/bin/env bash
cd "$bench/sites" && exec $as_user env PYTHONPATH="$app_src" PYTHONDONTWRITEBYTECODE=1 \\
	../env/bin/python -m frappe.utils.bench_helper frappe "\$@"
EOF
	chmod a+rx "$file"
	echo "$file"
}

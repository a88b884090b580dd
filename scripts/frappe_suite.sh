# Sourced by scripts/test.sh: runs the Frappe suite of this checkout on an existing bench.
# Uses: $bench, $repo, $app, say(). Builds nothing: the bench must already exist.

# shellcheck source=scripts/lib/services.sh
source "$repo/scripts/lib/services.sh"
bench_user=$(bench_owner)
added_to_apps_txt=0
app_src=""

frappe_cli() {
	(cd "$bench/sites" && as_bench_user env PYTHONPATH="$app_src" PYTHONDONTWRITEBYTECODE=1 \
		../env/bin/python -m frappe.utils.bench_helper frappe "$@")
}

# The bench user must be able to read the code; a checkout it cannot reach is copied (tracked files only).
prepare_app_source() {
	if as_bench_user test -r "$repo/$app/hooks.py"; then
		app_src=$repo
	else
		app_src=$(mktemp -d /tmp/crm_extension_src.XXXXXX)
		(cd "$repo" && git ls-files -z | xargs -0 cp --parents -t "$app_src")
		chmod -R a+rX "$app_src"
	fi
}

install_python_dependencies() {
	local deps
	deps=$("$bench/env/bin/python" -c "import tomllib; project = tomllib.load(open('$repo/pyproject.toml', 'rb'))['project']; print(' '.join(project['dependencies'] + project['optional-dependencies']['test']))")
	# shellcheck disable=SC2086
	as_bench_user "$bench/env/bin/python" -m pip install --quiet --disable-pip-version-check $deps
}

add_to_apps_txt() {
	if ! grep -qx "$app" "$bench/sites/apps.txt"; then
		printf '\n%s\n' "$app" >>"$bench/sites/apps.txt"
		sed -i '/^$/d' "$bench/sites/apps.txt"
		added_to_apps_txt=1
	fi
}

remove_from_apps_txt() {
	[ "$added_to_apps_txt" -eq 1 ] && sed -i "/^$app\$/d" "$bench/sites/apps.txt"
}

default_site() {
	"$bench/env/bin/python" -c "import json; print(json.load(open('$bench/sites/common_site_config.json')).get('default_site', ''))"
}

pick_site() {
	site=${CRM_TEST_SITE:-$(cat "$bench/sites/currentsite.txt" 2>/dev/null || default_site)}
	if [ -z "$site" ] || [ ! -f "$bench/sites/$site/site_config.json" ]; then
		echo "No test site: set CRM_TEST_SITE to a site of $bench"
		return 1
	fi
	if ! grep -q '"allow_tests": *\(true\|1\)' "$bench/sites/$site/site_config.json"; then
		echo "Site $site does not allow tests: bench --site $site set-config allow_tests true"
		return 1
	fi
}

app_installed() {
	[ "$(site_check installed)" = '{"installed": true}' ]
}

# Calls <module>.<function>() with the site connected and prints what it returns as one JSON line. Not
# `bench execute`: that refuses code outside installed apps, such as the app once it is uninstalled
# (exactly when the leftover checks run) and the benchmarks/ package.
site_call() {
	(cd "$bench/sites" && as_bench_user env PYTHONPATH="$app_src" PYTHONDONTWRITEBYTECODE=1 \
		../env/bin/python -c "
import importlib, json, sys, frappe
frappe.init(site=sys.argv[1], sites_path='.')
frappe.connect()
try:
	result = getattr(importlib.import_module(sys.argv[2]), sys.argv[3])()
	if result is not None:
		print(json.dumps(result, default=str))
finally:
	frappe.destroy()
" "$site" "$1" "$2") | tail -n 1
}

site_check() {
	site_call crm_extension.setup.checks "$1"
}

fingerprint() {
	site_check schema_fingerprint
}

host_record_counts() {
	site_check host_record_counts
}

install_and_migrate_twice() {
	# What uninstall must give back: every host table's columns and indexes, and the host rows.
	host_schema_before=$(mktemp /tmp/crm_host_schema.XXXXXX)
	site_check host_schema >"$host_schema_before" || return 1
	host_rows_before=$(site_check host_rows)
	say "install-app $app on $site"
	frappe_cli --site "$site" install-app "$app" || return 1
	say "migrate (1 of 2)"
	frappe_cli --site "$site" migrate --skip-search-index || return 1
	local before after
	before=$(fingerprint)
	say "migrate (2 of 2): must change nothing"
	frappe_cli --site "$site" migrate --skip-search-index || return 1
	after=$(fingerprint)
	if [ "$before" != "$after" ]; then
		echo "Second migrate changed the schema: $before -> $after"
		return 1
	fi
	echo "Second migrate was a no-op (fingerprint $after)"
}

uninstall_and_check_leftovers() {
	local rows_after leftovers schema_after
	say "uninstall-app $app from $site"
	frappe_cli --site "$site" uninstall-app "$app" --yes --no-backup || return 1
	rows_after=$(site_check host_rows)
	leftovers=$(site_check leftovers)
	schema_after=$(mktemp /tmp/crm_host_schema.XXXXXX)
	site_check host_schema >"$schema_after"
	echo "host rows before install:  $host_rows_before"
	echo "host rows after uninstall: $rows_after"
	echo "app leftovers after uninstall: $leftovers"
	# What differs between the two host_schema outputs, per table: columns and indexes added or gone.
	python3 - "$host_schema_before" "$schema_after" <<'PY'
import json, sys
before, after = (json.load(open(path)) for path in sys.argv[1:3])
differences = []
for table in sorted(set(before) | set(after)):
	for kind in ("columns", "indexes"):
		old, new = before.get(table, {}).get(kind, []), after.get(table, {}).get(kind, [])
		if old != new:
			gone, added = [x for x in old if x not in new], [x for x in new if x not in old]
			differences.append(f"  {table} {kind}: added {added}, gone {gone}" + ("" if gone or added else ", reordered"))
columns = sum(len(table["columns"]) for table in before.values())
print(f"host tables before install / after uninstall: {len(before)} / {len(after)} tables, {columns} columns before")
print("\n".join(differences) or "host tables' column lists and indexes are the same as before install")
sys.exit(1 if differences else 0)
PY
	local schema_differs=$?
	rm -f "$host_schema_before" "$schema_after"
	[ "$host_rows_before" = "$rows_after" ] || { echo "Host rows changed between install and uninstall"; return 1; }
	[ "$leftovers" = "{}" ] || { echo "Uninstall left app records behind"; return 1; }
	[ "$schema_differs" -eq 0 ] || { echo "Host tables' columns or indexes differ from before install"; return 1; }
}

run_frappe_suite() {
	say "Frappe suite on bench $bench"
	start_services || return 1
	prepare_app_source
	install_python_dependencies || return 1
	add_to_apps_txt
	pick_site || return 1
	# Frappe caches the app/module map in Redis; it must see the app list as it is now.
	frappe_cli --site "$site" clear-cache || return 1

	local was_installed=0 status=0
	app_installed && was_installed=1
	if [ "$was_installed" -eq 1 ]; then
		frappe_cli --site "$site" migrate --skip-search-index || return 1
	else
		install_and_migrate_twice || status=1
	fi

	if [ "$status" -eq 0 ]; then
		say "run-tests --app $app"
		# Frappe's run-tests exits non-zero on failures only when CI is set: without it a failing suite
		# would pass this script on a developer's machine.
		# shellcheck disable=SC2086
		CI=${CI:-1} frappe_cli --site "$site" run-tests --app "$app" ${CRM_FRAPPE_TESTS:-} || status=1
		run_browser_check || status=1
	fi

	if [ "$was_installed" -eq 0 ] && [ -z "${CRM_KEEP_INSTALLED:-}" ]; then
		uninstall_and_check_leftovers || status=1
	fi
	return $status
}

cleanup_frappe_suite() {
	if remove_from_apps_txt && [ -n "${site:-}" ]; then
		frappe_cli --site "$site" clear-cache >/dev/null 2>&1
	fi
	stop_started_services
	[ -n "$app_src" ] && [ "$app_src" != "$repo" ] && rm -rf "$app_src"
	return 0
}

run_browser_check() {
	if [ ! -d "$bench/sites/assets/frappe/dist" ]; then
		say "Browser check: SKIPPED - desk assets are not built on this bench"
		return 0
	fi
	# shellcheck source=scripts/browser_check.sh
	source "$repo/scripts/browser_check.sh"
	browser_check
}

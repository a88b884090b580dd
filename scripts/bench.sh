#!/usr/bin/env bash
# Builds a Frappe bench with ERPNext and a test site, or reuses the one it finds (as frappe/hrms's
# .github/helper/install.sh does for CI). Idempotent: on a complete bench every phase sees it is done
# and the run takes seconds. Writes nothing into this repository.
#
# Environment:
#   FRAPPE_BENCH          bench folder (default: ~frappe/frappe-bench; its owner runs bench)
#   CRM_BENCH_USER        user that owns a new bench (default: frappe, created when missing)
#   CRM_FRAPPE_SOURCE     Frappe source: a git URL with an optional #ref, a local folder, or a .tar.gz
#   CRM_ERPNEXT_SOURCE    ERPNext source, the same forms
#                         Defaults: the archives in ../shared/hosts/ when that folder exists, else the
#                         upstream repositories at v15.55.1 / v15.41.1.
#   CRM_TEST_SITE         test site (default: crm.localhost), with ERPNext, allow_tests and before_tests
#   CRM_DB_ROOT_PASSWORD  MariaDB root password set on a new server / used for new sites (default: admin)
#   CRM_KEEP_SERVICES=1   leave MariaDB and Redis running when this script started them
#   CRM_SKIP_ASSETS=1     do not build desk assets (the browser check is then skipped)
#   CRM_HOSTS_CACHE       where sources are unpacked (default: the bench user's ~/.cache/crm-extension-hosts)
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_user=${CRM_BENCH_USER:-frappe}
bench=${FRAPPE_BENCH:-$(getent passwd "$bench_user" >/dev/null && eval echo "~$bench_user" || echo "/home/$bench_user")/frappe-bench}
site=${CRM_TEST_SITE:-crm.localhost}
db_root_password=${CRM_DB_ROOT_PASSWORD:-admin}
shared_hosts=$repo/../shared/hosts
building_marker=.crm_extension_bench_building
log_dir=/tmp/crm_bench_logs
mkdir -p "$log_dir"

# shellcheck source=scripts/lib/services.sh
source "$repo/scripts/lib/services.sh"

default_source() { # name tag archive
	if [ -f "$shared_hosts/$3" ]; then
		echo "$(cd "$shared_hosts" && pwd)/$3"
	else
		echo "https://github.com/frappe/$1#$2"
	fi
}
frappe_source=${CRM_FRAPPE_SOURCE:-$(default_source frappe v15.55.1 frappe-v15.55.1.tar.gz)}
erpnext_source=${CRM_ERPNEXT_SOURCE:-$(default_source erpnext v15.41.1 erpnext-v15.41.1.tar.gz)}

phase_started=0
current_phase=""
current_log=""
build_started=$(date +%s)

phase() { # name
	current_phase=$1
	current_log=$log_dir/$(echo "$1" | tr ' /' '__').log
	: >"$current_log"
	phase_started=$(date +%s)
	printf '\n== bench phase: %s\n' "$1"
}

phase_done() { # what happened
	printf '   %s (%ss)\n' "$1" "$(($(date +%s) - phase_started))"
}

fail() { # message
	printf '\nbench.sh FAILED in phase "%s": %s\n' "$current_phase" "$1" >&2
	if [ -s "$current_log" ]; then
		printf -- '--- last lines of %s\n' "$current_log" >&2
		tail -n 30 "$current_log" >&2
	fi
	exit 1
}

logged() { # command... (output to the phase's log)
	"$@" >>"$current_log" 2>&1
}

# ---------------------------------------------------------------- system packages
system_packages=(
	git curl ca-certificates build-essential pkg-config python3-dev python3-venv python3-pip
	mariadb-server mariadb-client redis-server
	chromium fonts-dejavu-core fonts-noto-core fonts-farsiweb
)

missing_packages() {
	local pkg
	for pkg in "${system_packages[@]}"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
	done
	command -v node >/dev/null || echo nodejs
	command -v npm >/dev/null || echo npm
}

install_system_packages() {
	phase "system packages"
	local missing
	missing=$(missing_packages | tr '\n' ' ')
	if [ -n "${missing// /}" ]; then
		[ "$(id -u)" -eq 0 ] || fail "packages missing ($missing) and not root: install them, or run as root"
		echo "   installing: $missing"
		logged apt-get update -qq || fail "apt-get update failed"
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive logged apt-get install -y -qq --no-install-recommends $missing \
			|| fail "apt-get install failed"
	fi
	if ! command -v yarn >/dev/null; then
		logged npm install -g yarn@1 || fail "npm install -g yarn failed"
	fi
	phase_done "node $(node --version), yarn $(yarn --version), $(mariadb --version | awk '{print $5}' | tr -d ,)"
}

# ---------------------------------------------------------------- bench user
ensure_bench_user() {
	phase "bench user"
	if [ -d "$bench" ]; then
		bench_user=$(bench_owner)
		phase_done "bench exists, owned by $bench_user"
		return
	fi
	if ! id "$bench_user" >/dev/null 2>&1; then
		logged useradd -m -s /bin/bash "$bench_user" || fail "could not create user $bench_user"
	fi
	[ "$bench_user" != root ] || fail "bench refuses to run as root: set CRM_BENCH_USER to another user"
	mkdir -p "$(dirname "$bench")"
	phase_done "user $bench_user"
}

# ---------------------------------------------------------------- MariaDB
mariadb_config=/etc/mysql/mariadb.conf.d/99-crm-extension-frappe.cnf

configure_mariadb() {
	phase "mariadb"
	if [ ! -f "$mariadb_config" ]; then
		cat >"$mariadb_config" <<'EOF'
# Written by crm_extension's scripts/bench.sh: the settings Frappe needs.
[mysqld]
character-set-client-handshake = FALSE
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
innodb_buffer_pool_size = 512M

[mysql]
default-character-set = utf8mb4
EOF
		if mariadb_up; then
			kill "$(cat /run/mysqld/mysqld.pid 2>/dev/null)" 2>/dev/null
			for _ in $(seq 60); do mariadb_up || break; sleep 1; done
		fi
	fi
	start_mariadb >>"$current_log" 2>&1 || fail "MariaDB did not start"
	# Root keeps its socket login (the scripts run as root) and gains the password login Frappe uses.
	if ! mariadb -uroot -p"$db_root_password" -h127.0.0.1 -e "select 1" >/dev/null 2>&1; then
		mariadb -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('$db_root_password'); FLUSH PRIVILEGES;" \
			>>"$current_log" 2>&1 || fail "could not set the MariaDB root password (set CRM_DB_ROOT_PASSWORD to the one it has)"
	fi
	phase_done "running, root password login works"
}

# ---------------------------------------------------------------- bench CLI
bench_cli_home() { eval echo "~$bench_user"; }
bench_cli() { echo "$(bench_cli_home)/.local/crm-bench-cli/bin/bench"; }

install_bench_cli() {
	phase "bench cli"
	local venv
	venv=$(dirname "$(dirname "$(bench_cli)")")
	if [ ! -x "$(bench_cli)" ]; then
		runuser -u "$bench_user" -- /usr/bin/python3 -m venv "$venv" >>"$current_log" 2>&1 || fail "venv failed"
		runuser -u "$bench_user" -- "$venv/bin/pip" install --quiet "frappe-bench>=5.22,<6" "uv>=0.4" \
			>>"$current_log" 2>&1 || fail "pip install frappe-bench failed"
	fi
	phase_done "$("$(bench_cli)" --version 2>/dev/null | tail -n 1)"
}

run_bench() { # args... (in the bench folder, as its owner)
	(cd "$bench" && runuser -u "$bench_user" -- env PATH="$(dirname "$(bench_cli)"):$PATH" \
		UV_NATIVE_TLS=1 HOME="$(bench_cli_home)" "$(bench_cli)" "$@")
}

# ---------------------------------------------------------------- host sources
# Turns a source spec into a git repository the bench user can clone: prints "path branch".
prepare_source() { # name spec variable
	local name=$1 spec=$2 variable=$3 cache ref url top
	cache=${CRM_HOSTS_CACHE:-$(bench_cli_home)/.cache/crm-extension-hosts}
	runuser -u "$bench_user" -- mkdir -p "$cache" || fail "cannot make $cache"
	case "$spec" in
	*.tar.gz | *.tgz)
		[ -f "$spec" ] || fail "$variable: no archive at $spec"
		local stamp="$cache/$name.from"
		local digest
		digest=$(sha256sum "$spec" | cut -c1-16)
		if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ] || [ ! -d "$cache/$name/.git" ]; then
			rm -rf "$stamp" "$cache/$name.unpack" "$cache/$name"
			runuser -u "$bench_user" -- mkdir -p "$cache/$name.unpack"
			runuser -u "$bench_user" -- tar -xzf "$spec" -C "$cache/$name.unpack" >>"$current_log" 2>&1 \
				|| fail "$variable: $spec is not a readable .tar.gz"
			# shellcheck disable=SC2012
			if [ "$(ls -A "$cache/$name.unpack" | wc -l)" -ne 1 ] || ! top=$(ls -d "$cache/$name.unpack"/*/ 2>/dev/null); then
				fail "$variable: $spec must hold exactly one top folder"
			fi
			runuser -u "$bench_user" -- mv "$top" "$cache/$name"
			rm -rf "$cache/$name.unpack"
			runuser -u "$bench_user" -- git -C "$cache/$name" init -q -b version-15 >>"$current_log" 2>&1
			runuser -u "$bench_user" -- git -C "$cache/$name" add -A >>"$current_log" 2>&1
			runuser -u "$bench_user" -- env GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost \
				GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost \
				git -C "$cache/$name" commit -q -m "$(basename "$spec")" >>"$current_log" 2>&1 \
				|| fail "$variable: could not make a git repository of $spec"
			echo "$digest" | runuser -u "$bench_user" -- tee "$stamp" >/dev/null
		fi
		echo "$cache/$name version-15"
		;;
	*://* | git@*)
		url=${spec%%#*}
		ref=version-15
		[ "$url" != "$spec" ] && ref=${spec#*#}
		if [ ! -d "$cache/$name-git/.git" ] || [ "$(cat "$cache/$name-git.from" 2>/dev/null)" != "$spec" ]; then
			rm -rf "$cache/$name-git"
			runuser -u "$bench_user" -- git clone -q --depth 1 --branch "$ref" "$url" "$cache/$name-git" \
				>>"$current_log" 2>&1 || fail "$variable: cannot clone $url at $ref"
			runuser -u "$bench_user" -- git -C "$cache/$name-git" checkout -q -B version-15 >>"$current_log" 2>&1
			echo "$spec" | runuser -u "$bench_user" -- tee "$cache/$name-git.from" >/dev/null
		fi
		echo "$cache/$name-git version-15"
		;;
	*)
		[ -d "$spec" ] || fail "$variable: '$spec' is neither a folder, a .tar.gz nor a git URL"
		[ -f "$spec/$name/hooks.py" ] || fail "$variable: $spec does not look like $name (no $name/hooks.py)"
		if [ -d "$spec/.git" ]; then
			echo "$spec $(git -C "$spec" rev-parse --abbrev-ref HEAD)"
		else
			fail "$variable: $spec is a folder but not a git repository (git init and commit it, or pass a .tar.gz)"
		fi
		;;
	esac
}

prepare_sources() {
	phase "host sources"
	frappe_repo=$(prepare_source frappe "$frappe_source" CRM_FRAPPE_SOURCE) || exit 1
	erpnext_repo=$(prepare_source erpnext "$erpnext_source" CRM_ERPNEXT_SOURCE) || exit 1
	phase_done "frappe from $frappe_source; erpnext from $erpnext_source"
}

# ---------------------------------------------------------------- bench
bench_complete() { [ -x "$bench/env/bin/python" ] && [ -f "$bench/apps/frappe/frappe/hooks.py" ] && [ -f "$bench/sites/common_site_config.json" ]; }

init_bench() {
	phase "bench init"
	if bench_complete; then
		phase_done "reusing $bench"
		return
	fi
	if [ -d "$bench" ]; then
		if [ -f "$bench/$building_marker" ]; then
			echo "   an earlier build of $bench by this script did not finish: starting it again"
			rm -rf "$bench"
		else
			local missing=()
			[ -x "$bench/env/bin/python" ] || missing+=("env/")
			[ -f "$bench/apps/frappe/frappe/hooks.py" ] || missing+=("apps/frappe")
			[ -f "$bench/sites/common_site_config.json" ] || missing+=("sites/common_site_config.json")
			fail "$bench exists but is not a complete bench (missing: ${missing[*]}). It was not made by this script, so it is left alone: repair it, move it away, or set FRAPPE_BENCH to another folder to build a new bench there."
		fi
	fi
	local path branch
	read -r path branch <<<"$frappe_repo"
	runuser -u "$bench_user" -- mkdir -p "$bench"
	runuser -u "$bench_user" -- touch "$bench/$building_marker"
	local parent name
	parent=$(dirname "$bench")
	name=$(basename "$bench")
	(cd "$parent" && runuser -u "$bench_user" -- env PATH="$(dirname "$(bench_cli)"):$PATH" UV_NATIVE_TLS=1 \
		HOME="$(bench_cli_home)" "$(bench_cli)" init "$name" --ignore-exist --frappe-path "$path" \
		--frappe-branch "$branch" --python /usr/bin/python3 --skip-assets --no-backups --no-procfile) \
		>>"$current_log" 2>&1 || fail "bench init failed"
	phase_done "bench at $bench"
}

# uv makes the bench's env with a setuptools that no longer has pkg_resources, which Frappe v15 imports.
fix_bench_env() {
	"$bench/env/bin/python" -c "import pkg_resources" >/dev/null 2>&1 && return
	logged as_bench_user "$bench/env/bin/python" -m pip install --quiet "setuptools>=68,<80" \
		|| fail "could not install setuptools<80 (pkg_resources) into the bench's env"
}

get_erpnext() {
	phase "erpnext app"
	if [ -f "$bench/apps/erpnext/erpnext/hooks.py" ] && grep -qx erpnext "$bench/sites/apps.txt"; then
		phase_done "already in the bench"
		return
	fi
	local path branch
	read -r path branch <<<"$erpnext_repo"
	logged run_bench get-app --skip-assets --branch "$branch" "$path" || fail "bench get-app erpnext failed"
	phase_done "installed into the bench"
}

# ---------------------------------------------------------------- site
site_ready() { [ -f "$bench/sites/$site/.crm_extension_site_ready" ]; }

create_site() {
	phase "site $site"
	start_redis >>"$current_log" 2>&1 || fail "Redis could not start (see above)"
	if site_ready; then
		phase_done "reusing $site"
		return
	fi
	local building_record="$bench/sites/.crm_extension_site_building_$site"
	if [ -f "$building_record" ] && [ -d "$bench/sites/$site" ]; then
		echo "   an earlier creation of $site by this script did not finish: dropping it and starting again"
		logged run_bench drop-site "$site" --force --no-backup --db-root-username root \
			--db-root-password "$db_root_password" || fail "could not drop the unfinished site $site"
		rm -rf "$bench/sites/$site"
	fi
	if [ ! -f "$bench/sites/$site/site_config.json" ]; then
		runuser -u "$bench_user" -- touch "$building_record"
		logged run_bench new-site "$site" --db-root-username root --db-root-password "$db_root_password" \
			--admin-password admin --install-app erpnext || fail "bench new-site $site failed"
	elif ! grep -q '"erpnext"' <(run_bench --site "$site" list-apps --format json 2>/dev/null); then
		logged run_bench --site "$site" install-app erpnext || fail "install-app erpnext on $site failed"
	fi
	logged run_bench --site "$site" set-config allow_tests true || fail "set-config allow_tests failed"
	logged run_bench --site "$site" execute erpnext.setup.utils.before_tests \
		|| fail "ERPNext's before_tests (company, fiscal years) failed on $site"
	runuser -u "$bench_user" -- touch "$bench/sites/$site/.crm_extension_site_ready"
	rm -f "$building_record"
	phase_done "$site with ERPNext, allow_tests and ERPNext's test company"
}

# ---------------------------------------------------------------- desk assets
assets_built() {
	[ -f "$bench/sites/assets/assets.json" ] && [ -d "$bench/sites/assets/frappe/dist" ] \
		&& [ -d "$bench/sites/assets/erpnext/dist" ]
}

build_assets() {
	phase "desk assets"
	if [ -n "${CRM_SKIP_ASSETS:-}" ]; then
		phase_done "skipped (CRM_SKIP_ASSETS)"
		return
	fi
	if assets_built; then
		phase_done "already built"
		return
	fi
	local app
	for app in frappe erpnext; do
		(cd "$bench/apps/$app" && runuser -u "$bench_user" -- env HOME="$(bench_cli_home)" \
			yarn install --frozen-lockfile --non-interactive --network-timeout 600000) \
			>>"$current_log" 2>&1 || fail "yarn install in apps/$app failed"
	done
	logged run_bench build --apps frappe,erpnext || fail "bench build failed"
	phase_done "frappe and erpnext assets"
}

finish() {
	rm -f "$bench/$building_marker"
	if [ -z "${CRM_KEEP_SERVICES:-}" ]; then
		stop_started_services
	fi
	printf '\n== bench ready: %s (site %s) in %ss\n' "$bench" "$site" "$(($(date +%s) - build_started))"
}

# One line that changes when the bench does: the apps' commits, the app list, the sites and their
# configuration, the built assets and the env's packages. The test command compares it around a second run.
bench_state() {
	[ -d "$bench" ] || { echo "no bench"; return; }
	{
		for app in "$bench"/apps/*/; do git -C "$app" rev-parse HEAD 2>/dev/null; done
		cat "$bench/sites/apps.txt" "$bench/sites/common_site_config.json" "$bench"/sites/*/site_config.json
		ls -a "$bench/sites"
		cat "$bench/sites/assets/assets.json" 2>/dev/null
		ls "$bench/env/lib/"python3*/site-packages
	} 2>/dev/null | sha256sum | cut -c1-16
}

main() {
	if [ "${1:-}" = "--state" ]; then
		bench_state
		return
	fi
	install_system_packages
	ensure_bench_user
	configure_mariadb
	install_bench_cli
	if bench_complete && grep -qx erpnext "$bench/sites/apps.txt" 2>/dev/null; then
		frappe_repo="" erpnext_repo=""
	else
		prepare_sources
	fi
	init_bench
	fix_bench_env
	get_erpnext
	create_site
	build_assets
	finish
}

main "$@"

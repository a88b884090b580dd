#!/usr/bin/env bash
# scripts/bench.sh on bad input: each case must stop at the right phase with a message that says what to
# set or do, and must never delete a folder it did not create. Run by scripts/test.sh once a bench exists
# (the cases reuse its system packages, MariaDB and bench CLI; they build nothing).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d /tmp/crm_bench_faults.XXXXXX)
chown frappe "$work" && chmod 755 "$work"
passed=0
failed=0

expect_failure() { # name expected-text command...
	local name=$1 expected=$2 output status
	shift 2
	output=$("$@" 2>&1)
	status=$?
	if [ "$status" -ne 0 ] && grep -qF -- "$expected" <<<"$output"; then
		passed=$((passed + 1))
		echo "ok   $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name (exit $status; expected the message: $expected)"
		tail -n 5 <<<"$output" | sed 's/^/     /'
	fi
}

build() { # extra env...
	env FRAPPE_BENCH="$work/bench-$RANDOM" CRM_HOSTS_CACHE="$work/cache" CRM_KEEP_SERVICES=1 "$@" bash "$repo/scripts/bench.sh"
}

runuser -u frappe -- mkdir -p "$work/cache" "$work/two-tops/a" "$work/two-tops/b" "$work/not-git/frappe"
tar -czf "$work/two-tops.tar.gz" -C "$work/two-tops" a b
touch "$work/not-git/frappe/hooks.py"

expect_failure "a missing archive names the variable" \
	"CRM_FRAPPE_SOURCE: no archive at $work/none.tar.gz" build CRM_FRAPPE_SOURCE="$work/none.tar.gz"
expect_failure "an archive with two top folders is refused" \
	"must hold exactly one top folder" build CRM_FRAPPE_SOURCE="$work/two-tops.tar.gz"
expect_failure "a folder that is not a git repository is refused" \
	"is a folder but not a git repository" build CRM_FRAPPE_SOURCE="$work/not-git"
expect_failure "a folder that is not Frappe is refused" \
	"does not look like frappe" build CRM_FRAPPE_SOURCE="$work"
expect_failure "an unreachable URL names the variable" \
	"CRM_ERPNEXT_SOURCE: cannot clone" build CRM_ERPNEXT_SOURCE="https://127.0.0.1:9/erpnext.git#v15.41.1"

# A bench folder someone else left half-made: explained, and left where it is.
broken=$work/broken-bench
runuser -u frappe -- mkdir -p "$broken/sites" "$broken/apps"
runuser -u frappe -- touch "$broken/sites/keep-me"
expect_failure "a broken bench says what is missing" "missing: env/ apps/frappe" \
	env FRAPPE_BENCH="$broken" CRM_HOSTS_CACHE="$work/cache" CRM_KEEP_SERVICES=1 bash "$repo/scripts/bench.sh"
if [ -f "$broken/sites/keep-me" ]; then
	passed=$((passed + 1))
	echo "ok   a bench this script did not create is not deleted"
else
	failed=$((failed + 1))
	echo "FAIL a bench this script did not create was deleted"
fi

# A Redis port of the bench held by something that is not Redis.
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(); time.sleep(30)" &
holder=$!
for _ in $(seq 50); do
	python3 -c "import socket,sys; sys.exit(socket.socket().connect_ex(('127.0.0.1', $port)))" 2>/dev/null && break
	sleep 0.1
done
mkdir -p "$work/ports/sites"
echo "{\"redis_cache\": \"redis://127.0.0.1:$port\"}" >"$work/ports/sites/common_site_config.json"
expect_failure "a Redis port in use says which and where to change it" "Port $port is in use" \
	bash -c "bench='$work/ports'; source '$repo/scripts/lib/services.sh'; start_redis"
kill "$holder" 2>/dev/null

rm -rf "$work"
echo "bench faults: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

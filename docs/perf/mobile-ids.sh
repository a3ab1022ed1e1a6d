#!/bin/bash
# mobile-ids.sh: measure first-time mobile IDs with the built binary, as
# docs/performance.md ("At a glance") does: a fresh database with the bench
# users, a server that has gone idle after its start, then `lanyard bench`
# with the server's pid, so that it reports the server's CPU per mobile ID.
#
#   mobile-ids.sh sqlite|postgres [CONCURRENCY [COUNT [USERS]]]
#
# It builds ./cmd/lanyard into a temporary folder (or runs $LANYARD_BIN)
# and removes that folder at the end; on PostgreSQL it uses a fresh schema of the database test on
# 127.0.0.1 and drops it at the end.
set -euo pipefail
engine=$1 conc=${2:-4} count=${3:-800} users=${4:-1000}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
port=$((18000 + RANDOM % 1000))
schema=bench_$RANDOM
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ "$engine" = postgres ] && psql -q -h 127.0.0.1 -U postgres test -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
bin=${LANYARD_BIN:-$work/lanyard}
[ -n "${LANYARD_BIN:-}" ] || (cd "$root" && go build -o "$bin" ./cmd/lanyard)
printf 'bench password 1234\n' >"$work/pw"
"$bin" bench users --users "$users" --password-file "$work/pw" >"$work/users.csv"
db=() cpu=()
if [ "$engine" = postgres ]; then
	psql -q -h 127.0.0.1 -U postgres test -c "CREATE SCHEMA $schema" >/dev/null
	db=(--db "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=$schema")
	cpu=(--postgres-cpu)
fi
"$bin" user import "$work/users.csv" --data "$work/d" "${db[@]}" >/dev/null
"$bin" serve --data "$work/d" "${db[@]}" --listen "127.0.0.1:$port" --log-level warn &
pid=$!
# Wait until the server has started and its start-up work is over: fewer
# than 5 ticks of CPU in a second.
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.2; done
prev=$(ticks)
while sleep 1; now=$(ticks); [ $((now - prev)) -ge 5 ]; do prev=$now; done
"$bin" bench --url "http://127.0.0.1:$port" --users "$users" --concurrency "$conc" --count "$count" \
	--duration 300s --password-file "$work/pw" --server-pid "$pid" "${cpu[@]}"

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
#
# PG_PARAMS adds parameters to the PostgreSQL URL, such as
# PG_PARAMS=log_statement=all to have the server log every statement.
# PG_HOST=/var/run/postgresql connects through PostgreSQL's Unix socket
# instead of TCP on 127.0.0.1, as a server on the database's own machine
# would.
#
# With PROFILE=FILE, the server also profiles its CPU into FILE from the
# end of the logins to the last mobile ID (LANYARD_CPU_PROFILE, between
# SIGUSR1 and SIGUSR2), and the write syscalls and bytes it made per
# mobile ID are reported from /proc/PID/io: on SQLite nearly all of them
# are the write-ahead log's frames. Read the profile with
# `go tool pprof -top -cum BINARY FILE`.
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
	db=(--db "postgres://postgres@/test?host=${PG_HOST:-127.0.0.1}&port=5432&sslmode=disable&search_path=$schema${PG_PARAMS:+&$PG_PARAMS}")
	cpu=(--postgres-cpu)
fi
"$bin" user import "$work/users.csv" --data "$work/d" "${db[@]}" >/dev/null
LANYARD_CPU_PROFILE=${PROFILE:-} "$bin" serve --data "$work/d" "${db[@]}" --listen "127.0.0.1:$port" --log-level warn &
pid=$!
# Wait until the server has started and its start-up work is over: fewer
# than 5 ticks of CPU in a second.
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.2; done
prev=$(ticks)
while sleep 1; now=$(ticks); [ $((now - prev)) -ge 5 ]; do prev=$now; done
bench=("$bin" bench --url "http://127.0.0.1:$port" --users "$users" --concurrency "$conc" --count "$count"
	--duration 300s --password-file "$work/pw" --server-pid "$pid" "${cpu[@]}")
if [ -z "${PROFILE:-}" ]; then
	"${bench[@]}"
	exit
fi
writes() { awk '/^(wchar|syscw):/ {printf "%s ", $2}' "/proc/$pid/io"; }
"${bench[@]}" >"$work/bench.out" &
driver=$!
until grep -q '^logins:' "$work/bench.out"; do sleep 0.1; done
read -r bytes0 calls0 <<<"$(writes)"
kill -USR1 "$pid"
wait "$driver"
read -r bytes1 calls1 <<<"$(writes)"
kill -USR2 "$pid"
sleep 0.5
cat "$work/bench.out"
echo "writes:     $(((calls1 - calls0) / count)) write syscalls, $(((bytes1 - bytes0) / count / 1024)) KiB per mobile ID"

#!/bin/bash
# profile.sh: profile the server's CPU while `lanyard bench` makes
# first-time mobile IDs, leaving out the start and the logins, and report
# the write syscalls and bytes the server made per mobile ID (from
# /proc/PID/io: the write-ahead log's frames are most of them).
#
#   profile.sh sqlite|postgres CONCURRENCY COUNT PROFILE
#
# USERS (default 1000) sets the number of bench users, and LANYARD_BIN a
# built binary; the rest is as mobile-ids.sh does it. Read the profile
# with `go tool pprof -top -cum BINARY PROFILE`.
set -euo pipefail
engine=$1 conc=$2 count=$3 out=$4 users=${USERS:-1000}
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
LANYARD_CPU_PROFILE=$out "$bin" serve --data "$work/d" "${db[@]}" --listen "127.0.0.1:$port" --log-level warn &
pid=$!
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
writes() { awk '/^(wchar|syscw):/ {printf "%s ", $2}' "/proc/$pid/io"; }
until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.2; done
prev=$(ticks)
while sleep 1; now=$(ticks); [ $((now - prev)) -ge 5 ]; do prev=$now; done
"$bin" bench --url "http://127.0.0.1:$port" --users "$users" --concurrency "$conc" --count "$count" \
	--duration 300s --password-file "$work/pw" --server-pid "$pid" "${cpu[@]}" >"$work/bench.out" &
bench=$!
until grep -q '^logins:' "$work/bench.out"; do sleep 0.1; done
read -r bytes0 calls0 <<<"$(writes)"
kill -USR1 "$pid"
wait "$bench"
read -r bytes1 calls1 <<<"$(writes)"
kill -USR2 "$pid"
sleep 0.5
cat "$work/bench.out"
echo "writes:     $(((calls1 - calls0) / count)) write syscalls, $(((bytes1 - bytes0) / count / 1024)) KiB per mobile ID"

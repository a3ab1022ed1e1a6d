#!/bin/bash
# fill-history.sh: give a database the history of N replacements, for
# measuring only (docs/performance.md, "Flat to 100,000 revocations and a
# million users"). Run it after `lanyard user import` of the bench users
# and before `lanyard serve`.
#
#   fill-history.sh sqlite DATA_DIR [N]
#   fill-history.sh postgres SCHEMA [N]     (psql -h 127.0.0.1 -U postgres test)
#
# For each of N replacements (default 50,000) spread over benchuser1 to
# benchuser20 and over the year before now it inserts, in one transaction,
# a locked mobile ID, its finished process, and its two certificates,
# revoked, in the CRL shards of the days they expire, with their links: 2N
# revocations as real replacements leave them (no audit events). The server
# signs the shards' CRLs when it starts.
set -euo pipefail
engine=$1 where=$2 n=${3:-50000}
here=$(dirname "$0")
if [ "$engine" = sqlite ]; then
	sed -e "s/N_MOB/$n/g" -e "s/NOW_US/(CAST(strftime('%s','now') AS INTEGER) * 1000000)/g" \
		-e "s/FROM SERIES/FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n) SELECT i FROM n)/" \
		-e "s/HEXSERIAL/printf('7f%030x', CAST(substr(m.public_id, 8) AS INTEGER) * 2 + u.k)/g" \
		-e "s/DERBLOB/randomblob(560)/g" \
		-e "s|SHARDDAY|strftime('%Y%m%d', (m.created_at + 63072000000000) / 1000000, 'unixepoch')|" "$here/history.sql" | sqlite3 "$where/lanyard.db"
	sqlite3 "$where/lanyard.db" "SELECT status, COUNT(*) FROM certificates GROUP BY status"
else
	sed -e "s/N_MOB/$n/g" -e "s/NOW_US/(CAST(extract(epoch from now()) AS BIGINT) * 1000000)/g" \
		-e "s/FROM SERIES/FROM generate_series(1, $n) AS i/" \
		-e "s/HEXSERIAL/'7f' || lpad(to_hex(CAST(substr(m.public_id, 8) AS BIGINT) * 2 + u.k), 30, '0')/g" \
		-e "s/DERBLOB/decode(repeat('ab', 560), 'hex')/g" \
		-e "s|SHARDDAY|to_char(to_timestamp((m.created_at + 63072000000000) / 1000000) AT TIME ZONE 'UTC', 'YYYYMMDD')|" "$here/history.sql" |
		PGOPTIONS="-c search_path=$where" psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres test
	PGOPTIONS="-c search_path=$where" psql -q -h 127.0.0.1 -U postgres test -c "SELECT status, COUNT(*) FROM certificates GROUP BY status"
fi

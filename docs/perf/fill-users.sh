#!/bin/bash
# fill-users.sh: add N users (default 999,000) to a database, for measuring
# only, so that with the 1,000 bench users it holds a million
# (docs/performance.md, "Flat to 100,000 revocations and a million users").
# They look like users imported without a password: active, role user.
#
#   fill-users.sh sqlite DATA_DIR [N]
#   fill-users.sh postgres SCHEMA [N]       (psql -h 127.0.0.1 -U postgres test)
set -euo pipefail
engine=$1 where=$2 n=${3:-999000}
cols="username, email, common_name, attributes, state, roles, password_hash, must_change_password, created_at, updated_at"
if [ "$engine" = sqlite ]; then
	now="strftime('%s','now') * 1000000"
	sqlite3 "$where/lanyard.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n)
		INSERT INTO users ($cols)
		SELECT 'filluser' || i, 'filluser' || i || '@fill.invalid', 'Fill User ' || i, '{}', 'active', 'user', '', 0, $now, $now FROM n;
		SELECT COUNT(*) FROM users;"
else
	now="CAST(extract(epoch from now()) AS BIGINT) * 1000000"
	PGOPTIONS="-c search_path=$where" psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres test -c "
		INSERT INTO users ($cols)
		SELECT 'filluser' || i, 'filluser' || i || '@fill.invalid', 'Fill User ' || i, '{}', 'active', 'user', '', 0, $now, $now
		FROM generate_series(1, $n) AS i;
		ANALYZE users;" -c "SELECT COUNT(*) FROM users"
fi

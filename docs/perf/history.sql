-- The history fill-history.sh writes: N_MOB replacements spread over the
-- first 20 bench users and over the year before now, each a locked mobile
-- ID with its finished process and its two revoked certificates, in the CRL
-- shards of the days they expire. The upper-case words are filled in per
-- engine.
BEGIN;
INSERT INTO mobile_ids (public_id, user_id, state, process, profile_name, server_name, profile_user, device_name, recovery_pending, created_at, activated_at, updated_at)
SELECT 'hist-m-' || i, (SELECT id FROM users WHERE username = 'benchuser' || (1 + i % 20)), 'locked', 'MobileIDSelfServiceProcGet',
  'MobileID Bench User', 'Smart ID', 'bench@bench.invalid', 'bench device', 0, NOW_US - CAST(N_MOB - i AS BIGINT) * (31536000000000 / N_MOB), NOW_US - CAST(N_MOB - i AS BIGINT) * (31536000000000 / N_MOB), NOW_US - CAST(N_MOB - i AS BIGINT) * (31536000000000 / N_MOB) + 500000
FROM SERIES;
INSERT INTO enrollments (public_id, user_id, process, step, options, usages, recover_serials, by_email, code_expires_at, mobile_id, created_at, updated_at)
SELECT 'hist-e-' || substr(m.public_id, 8), m.user_id, 'MobileIDSelfServiceProcGet', 'finished', '{}', 'signature,authentication', '', 0, m.created_at + 900000000, m.id, m.created_at, m.updated_at
FROM mobile_ids m WHERE m.public_id LIKE 'hist-m-%';
INSERT INTO certificates (serial, user_id, usage, not_before, not_after, status, revoked_at, reason, der, issued_at, crl_shard)
SELECT HEXSERIAL, m.user_id, u.usage, m.created_at, m.created_at + 63072000000000, 'revoked', m.updated_at, 5, DERBLOB, m.created_at, SHARDDAY
FROM mobile_ids m CROSS JOIN (SELECT 'signature' AS usage, 0 AS k UNION ALL SELECT 'authentication', 1) u WHERE m.public_id LIKE 'hist-m-%';
INSERT INTO crl_shards (shard, generation)
SELECT DISTINCT crl_shard, 1 FROM certificates WHERE crl_shard <> '' ON CONFLICT (shard) DO NOTHING;
INSERT INTO mobile_id_certificates (mobile_id, serial, usage, recovered)
SELECT m.id, HEXSERIAL, u.usage, 0
FROM mobile_ids m CROSS JOIN (SELECT 'signature' AS usage, 0 AS k UNION ALL SELECT 'authentication', 1) u WHERE m.public_id LIKE 'hist-m-%';
COMMIT;

-- Indexes for the lookups that run on every step of a mobile ID and in the
-- jobs that run every few seconds, so that their cost follows what they
-- find, not how much history the database holds: a user's mobile IDs by
-- state (the locked ones newest first), a user's processes by step, a
-- mobile ID's process, the mobile IDs waiting for recovered keys, and the
-- mobile IDs in each state (the registered few that the repair job looks
-- at, and the counts of the metrics).
CREATE INDEX mobile_ids_user_state ON mobile_ids(user_id, state, id);
DROP INDEX mobile_ids_user;
CREATE INDEX mobile_ids_state ON mobile_ids(state);
CREATE INDEX mobile_ids_recovery_pending ON mobile_ids(id) WHERE recovery_pending = 1;
CREATE INDEX enrollments_user_step ON enrollments(user_id, step);
DROP INDEX enrollments_user;
CREATE INDEX enrollments_mobile_id ON enrollments(mobile_id);

-- A mail is claimed for one delivery attempt at a time. claim names the
-- attempt, so only it records the result; sending_since is set while an
-- attempt runs, so an attempt that never recorded its result (the
-- instance crashed between sending and recording) is known when the mail
-- is claimed again; message_id is the mail's Message-ID, the same at every
-- attempt, so a copy delivered twice is recognisably one message.
ALTER TABLE outbox ADD COLUMN claim TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN sending_since BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN message_id TEXT NOT NULL DEFAULT '';

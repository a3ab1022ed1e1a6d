-- Reminders sent about mobile IDs, such as the mails before one expires.
-- A row is inserted in the transaction that queues its mail, and its key
-- lets each reminder happen once, across restarts and instances. The kind
-- names the occasion: "before:30" for the mail 30 days before expiry,
-- "day:2030-01-31" for a daily one after the last of those days.
CREATE TABLE mobile_id_reminders (
	mobile_id BIGINT NOT NULL REFERENCES mobile_ids(id),
	kind TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (mobile_id, kind)
);

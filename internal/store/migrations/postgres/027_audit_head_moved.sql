-- A transaction guesses where the audit chain's head is and sends the
-- move of the head, its events and COMMIT in one round trip. When another
-- instance moved the head meanwhile, the statement must fail rather than
-- write nothing, so that COMMIT does not follow: it calls this, which
-- raises LY001, and the transaction chains its events again after the
-- head as it is.
CREATE FUNCTION audit_head_moved() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the audit chain''s head has moved' USING ERRCODE = 'LY001';
END
$$;

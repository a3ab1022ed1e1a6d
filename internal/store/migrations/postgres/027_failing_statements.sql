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

-- A statement sent with the ones after it, COMMIT among them, that must
-- find or change a row, is sent as WITH x AS (…) SELECT expect_rows(COUNT(*))
-- FROM x: without a row it fails, with LY002, and COMMIT does not run.
CREATE FUNCTION expect_rows(n bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
	IF n = 0 THEN
		RAISE EXCEPTION 'no row found' USING ERRCODE = 'LY002';
	END IF;
	RETURN n;
END
$$;

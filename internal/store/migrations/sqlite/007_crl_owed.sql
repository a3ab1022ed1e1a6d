-- Whether a CRL is owed is state in the database, not in one instance's
-- memory: every transaction that changes a certificate's status adds one
-- to the generation, and every CRL records the generation it covers. A
-- generation above the latest CRL's is a CRL owed, which any instance of a
-- cluster publishes, after a crash or restart too. Generation 1 against
-- the CRLs made before it makes the first start publish one.
CREATE TABLE crl_generation (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	generation BIGINT NOT NULL
);
INSERT INTO crl_generation (id, generation) VALUES (1, 1);
ALTER TABLE crls ADD COLUMN covers BIGINT NOT NULL DEFAULT 0;

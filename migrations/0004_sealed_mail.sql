-- Mail bodies that carry a single-use link are stored sealed under the master key
-- (AES-256-GCM, bound to the message id): `sealed_body` holds the text and HTML bodies,
-- while body_text and body_html hold the same letter with its link cut out. Scrubbing
-- drops sealed_body, so no raw token is ever written to the database file or its WAL.
ALTER TABLE outbox ADD COLUMN sealed_body BLOB;

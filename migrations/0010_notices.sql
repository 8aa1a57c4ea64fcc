-- Security notices by mail (README "Security notices").
--
-- Whether an account is told of a sign-in from a device or network it has not used before
-- (the other notices always go).
ALTER TABLE portal_users ADD COLUMN new_device_notices INTEGER NOT NULL DEFAULT 1
    CHECK (new_device_notices IN (0, 1));

-- The devices and networks an account has signed in from: each the SHA-256 of the
-- account, the browser family and OS ("Firefox on Linux") and the client's network (IPv4
-- /24, IPv6 /48), so no list of raw addresses grows here. A login from a pair not in the
-- set is a new device. Only the most recent ones per account are kept (core::notices).
CREATE TABLE known_devices (
    user_id       TEXT NOT NULL REFERENCES portal_users (id),
    fingerprint   BLOB NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, fingerprint)
) STRICT, WITHOUT ROWID;
CREATE INDEX known_devices_by_last_seen ON known_devices (user_id, last_seen_at);

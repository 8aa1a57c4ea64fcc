-- Daily counts for the operator dashboard's charts: one row per day (unix day), tenant
-- ('' for the whole installation) and metric. Written by the transactions that already
-- record a sign-up, login or failed mail, and by the usage flusher for verifications;
-- read 30 rows at a time, never by scanning the tables counted.
CREATE TABLE daily_activity (
    day       INTEGER NOT NULL,
    tenant_id TEXT NOT NULL DEFAULT '',
    metric    TEXT NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (day, tenant_id, metric)
) STRICT, WITHOUT ROWID;
-- A chart reads one tenant's metric over a range of days.
CREATE INDEX daily_activity_by_tenant ON daily_activity (tenant_id, metric, day);

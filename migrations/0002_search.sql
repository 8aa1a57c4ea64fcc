-- Operator search (`?q=` of /v1/admin/users and /v1/admin/tenants): trigram indexes of
-- the text it matches, so that a term few rows hold is found without reading every row.
--
-- External content: the index keeps no copy of the text, only which rows hold each
-- trigram (detail = 'none': no positions, about a third of the size with them). It finds
-- a superset of the matches; the lists (src/store/accounts.rs, tenants.rs) keep their
-- exact rule and apply it to what the index found (src/store/search.rs). The trigram
-- tokenizer folds case itself.
--
-- Triggers keep each index in step with its table; the update triggers fire only when the
-- indexed columns are written (not on every login's last_login_at). 'rebuild' indexes the
-- rows that exist: 4–6 s for a million accounts and 100,000 tenants on a 2-core VM,
-- and the file grows by about 50 MiB (bench/admin_search.sh).
-- The index refers to rows by rowid, which VACUUM INTO (`keystead backup`) keeps, gaps
-- and all (a test in src/store/search.rs checks it).

CREATE VIRTUAL TABLE portal_users_search USING fts5(
    email, name, content = 'portal_users', tokenize = 'trigram', detail = 'none'
);
CREATE TRIGGER portal_users_search_insert AFTER INSERT ON portal_users BEGIN
    INSERT INTO portal_users_search (rowid, email, name) VALUES (new.rowid, new.email, new.name);
END;
CREATE TRIGGER portal_users_search_update AFTER UPDATE OF email, name ON portal_users BEGIN
    INSERT INTO portal_users_search (portal_users_search, rowid, email, name)
        VALUES ('delete', old.rowid, old.email, old.name);
    INSERT INTO portal_users_search (rowid, email, name) VALUES (new.rowid, new.email, new.name);
END;
CREATE TRIGGER portal_users_search_delete AFTER DELETE ON portal_users BEGIN
    INSERT INTO portal_users_search (portal_users_search, rowid, email, name)
        VALUES ('delete', old.rowid, old.email, old.name);
END;
INSERT INTO portal_users_search (portal_users_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE tenants_search USING fts5(
    name, slug, content = 'tenants', tokenize = 'trigram', detail = 'none'
);
CREATE TRIGGER tenants_search_insert AFTER INSERT ON tenants BEGIN
    INSERT INTO tenants_search (rowid, name, slug) VALUES (new.rowid, new.name, new.slug);
END;
CREATE TRIGGER tenants_search_update AFTER UPDATE OF name, slug ON tenants BEGIN
    INSERT INTO tenants_search (tenants_search, rowid, name, slug) VALUES ('delete', old.rowid, old.name, old.slug);
    INSERT INTO tenants_search (rowid, name, slug) VALUES (new.rowid, new.name, new.slug);
END;
CREATE TRIGGER tenants_search_delete AFTER DELETE ON tenants BEGIN
    INSERT INTO tenants_search (tenants_search, rowid, name, slug) VALUES ('delete', old.rowid, old.name, old.slug);
END;
INSERT INTO tenants_search (tenants_search) VALUES ('rebuild');

-- Lists read one page by key order: by display name (then id), or by id. "C" is the byte
-- order of UTF-8, the order `$orderby` uses whatever the database's default collation is, and
-- NULLs sort first, as `$orderby` puts them.
CREATE INDEX IF NOT EXISTS configurations_by_name
    ON configurations (tenant_id, display_name COLLATE "C" NULLS FIRST, id COLLATE "C");
CREATE INDEX IF NOT EXISTS configurations_by_id
    ON configurations (tenant_id, id COLLATE "C");

-- Lists read one page by key order: by display name (then id), or by id. SQLite's BINARY
-- collation is the byte order of UTF-8, the order `$orderby` uses; NULLs sort first.
CREATE INDEX configurations_by_name ON configurations (tenant_id, display_name, id);

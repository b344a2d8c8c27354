-- Tenants that have been set up (their defaults created).
CREATE TABLE tenants (
    tenant_id TEXT PRIMARY KEY,
    created   TEXT NOT NULL
) WITHOUT ROWID;

-- Device enrollment configurations. Server-managed properties are columns; every property a
-- client may set is in `properties` (a JSON object, complete and canonical).
CREATE TABLE configurations (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT NOT NULL REFERENCES tenants (tenant_id),
    id           TEXT NOT NULL,
    odata_type   TEXT NOT NULL,
    ranking      TEXT NOT NULL,
    is_default   INTEGER NOT NULL,
    priority     INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    created      TEXT NOT NULL,
    modified     TEXT NOT NULL,
    display_name TEXT,
    properties   TEXT NOT NULL,
    UNIQUE (tenant_id, id)
);

-- A ranking never holds two items at one priority: the database enforces what the domain keeps.
CREATE UNIQUE INDEX configurations_ranking
    ON configurations (tenant_id, ranking, priority) WHERE is_default = 0;

CREATE TABLE assignments (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        TEXT NOT NULL,
    configuration_id TEXT NOT NULL,
    id               TEXT NOT NULL,
    properties       TEXT NOT NULL,
    UNIQUE (tenant_id, configuration_id, id),
    FOREIGN KEY (tenant_id, configuration_id)
        REFERENCES configurations (tenant_id, id) ON DELETE CASCADE
);

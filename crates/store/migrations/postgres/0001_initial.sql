-- Tenants. `seeded` becomes true once the tenant's defaults exist; the row is also the lock
-- that serialises one tenant's writes across every node (SELECT … FOR UPDATE).
CREATE TABLE IF NOT EXISTS tenants (
    tenant_id TEXT PRIMARY KEY,
    seeded    BOOLEAN NOT NULL DEFAULT FALSE,
    created   TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS configurations (
    seq          BIGSERIAL PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (tenant_id),
    id           TEXT NOT NULL,
    odata_type   TEXT NOT NULL,
    ranking      TEXT NOT NULL,
    is_default   BOOLEAN NOT NULL,
    priority     INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    created      TEXT NOT NULL,
    modified     TEXT NOT NULL,
    display_name TEXT,
    properties   TEXT NOT NULL,
    UNIQUE (tenant_id, id)
);

-- A ranking never holds two items at one priority.
CREATE UNIQUE INDEX IF NOT EXISTS configurations_ranking
    ON configurations (tenant_id, ranking, priority) WHERE NOT is_default;

CREATE TABLE IF NOT EXISTS assignments (
    seq              BIGSERIAL PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    configuration_id TEXT NOT NULL,
    id               TEXT NOT NULL,
    properties       TEXT NOT NULL,
    UNIQUE (tenant_id, configuration_id, id),
    FOREIGN KEY (tenant_id, configuration_id)
        REFERENCES configurations (tenant_id, id) ON DELETE CASCADE
);

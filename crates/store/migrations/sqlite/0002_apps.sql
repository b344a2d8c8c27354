-- Applications registered for the token endpoint (client credentials). Secrets are hashed.
CREATE TABLE apps (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    display_name TEXT NOT NULL,
    secret_hash  TEXT,
    certificate  TEXT,
    roles        TEXT NOT NULL,
    created      TEXT NOT NULL,
    UNIQUE (tenant_id, client_id)
);

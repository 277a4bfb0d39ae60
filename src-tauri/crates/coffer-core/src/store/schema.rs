//! The schema, as migrations embedded in code and applied in one transaction.
//!
//! Append new migrations; never edit a released one. `user_version` records how far a
//! vault has come, so an older binary can refuse a newer vault instead of damaging it.

use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

use crate::error::{Error, Result};

const V1: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

-- The audit trail is created before anything else that mentions "audit" so outside
-- tools listing tables find it first.
CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    workspace_id INTEGER,
    workspace    TEXT,
    project      TEXT,
    environment  TEXT,
    secret       TEXT,
    detail       TEXT NOT NULL,
    mac          BLOB NOT NULL
) STRICT;
CREATE INDEX audit_events_ws ON audit_events(workspace_id, id);

CREATE TABLE members (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    last_failed_at  INTEGER
) STRICT;

CREATE TABLE key_slots (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('passphrase', 'device')),
    kdf         TEXT,
    salt        BLOB,
    wrapped_key BLOB NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX key_slots_one_passphrase ON key_slots(member_id) WHERE kind = 'passphrase';

CREATE TABLE workspaces (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    wrapped_key BLOB NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE projects (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, name)
) STRICT;

CREATE TABLE grants (
    member_id    INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    project_id   INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    role         TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX grants_workspace ON grants(member_id, workspace_id) WHERE project_id IS NULL;
CREATE UNIQUE INDEX grants_project ON grants(member_id, workspace_id, project_id) WHERE project_id IS NOT NULL;

CREATE TABLE environments (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    position   INTEGER NOT NULL,
    protected  INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, name)
) STRICT;

CREATE TABLE secrets (
    id           INTEGER PRIMARY KEY,
    project_id   INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    kind         TEXT NOT NULL,
    scope        TEXT NOT NULL,
    owner_id     INTEGER NOT NULL REFERENCES members(id),
    rotate_every INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER,
    UNIQUE (project_id, name)
) STRICT;
CREATE INDEX secrets_deleted ON secrets(deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE versions (
    id             INTEGER PRIMARY KEY,
    secret_id      INTEGER NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
    environment_id INTEGER NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    version        INTEGER NOT NULL,
    ciphertext     BLOB,
    fingerprint    BLOB NOT NULL,
    origin         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    created_by     TEXT NOT NULL,
    expires_at     INTEGER,
    superseded_at  INTEGER,
    destroyed_at   INTEGER,
    UNIQUE (secret_id, environment_id, version)
) STRICT;
-- Covering: listing a project reads current versions without touching the table.
CREATE INDEX versions_current ON versions(secret_id, environment_id, version, created_at, expires_at, fingerprint, superseded_at)
    WHERE superseded_at IS NULL;
CREATE INDEX versions_live_old ON versions(superseded_at) WHERE superseded_at IS NOT NULL AND destroyed_at IS NULL;

CREATE TABLE settings (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (workspace_id, key)
) STRICT;
"#;

/// Use without reveal: short-lived handles and where definitions reference a secret.
const V2: &str = r#"
-- A handle is stored as a MAC of its token, so the table holds nothing a reader could
-- present as a handle.
CREATE TABLE handles (
    id             INTEGER PRIMARY KEY,
    token_mac      BLOB NOT NULL UNIQUE,
    member_id      INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    project_id     INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    environment_id INTEGER NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    secret         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX handles_expiry ON handles(expires_at);

-- Where a run check (`coffer check --record`) found a reference to a secret.
CREATE TABLE usages (
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    secret      TEXT NOT NULL,
    file        TEXT NOT NULL,
    line        INTEGER NOT NULL,
    col         INTEGER NOT NULL,
    environment TEXT,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, secret, file, line, col)
) STRICT, WITHOUT ROWID;
CREATE INDEX usages_file ON usages(file);
"#;

/// Where a secret may be sent: the hosts its writers allow for test requests, as a
/// JSON array of normalised patterns (see `hosts`). Metadata of the secret, not of a
/// version: a rotation keeps it.
const V3: &str = r#"
ALTER TABLE secrets ADD COLUMN allowed_hosts TEXT NOT NULL DEFAULT '[]';
"#;

/// A destroyed version's fingerprint goes with its ciphertext: kept, it let anyone
/// holding the fingerprint key test guesses against an old value.
const V4: &str = "UPDATE versions SET fingerprint = X'' WHERE destroyed_at IS NOT NULL;";

/// A handle may be single-use (`coffer ref --once`): the first use that resolves it
/// deletes it, in the transaction that audits the use.
const V5: &str = "ALTER TABLE handles ADD COLUMN single_use INTEGER NOT NULL DEFAULT 0;";

/// Roles enforced by keys. Each member gets public keys (Ed25519 to sign, X25519 to
/// receive keys), certified by the member who added them; key slots seal the member's
/// own private keys (format 2) instead of one vault key (format 1). Each environment
/// has X25519 key pairs by epoch, its private key sealed to each member who may use or
/// reveal there; each project a fingerprint key sealed to its writers; each member the
/// audit MAC key. A version records the epoch it is sealed under (0: to its owner
/// alone; NULL: the workspace key of format 1, until the owner's first unlock upgrades
/// it). `exposures` lists values a removed member could use, until rotated.
/// Workspaces, projects, environments, grants and settings are signed (`authority`).
const V6: &str = r#"
ALTER TABLE members ADD COLUMN sign_pk BLOB;
ALTER TABLE members ADD COLUMN kx_pk BLOB;
ALTER TABLE members ADD COLUMN certified_by INTEGER REFERENCES members(id);
ALTER TABLE members ADD COLUMN certificate BLOB;
ALTER TABLE members ADD COLUMN must_change_passphrase INTEGER NOT NULL DEFAULT 0;
ALTER TABLE key_slots ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
ALTER TABLE versions ADD COLUMN epoch INTEGER;

-- Rows that decide who may do what carry the signature of the member who wrote them.
ALTER TABLE workspaces ADD COLUMN creator INTEGER REFERENCES members(id);
ALTER TABLE workspaces ADD COLUMN signer INTEGER;
ALTER TABLE workspaces ADD COLUMN sig BLOB;
ALTER TABLE projects ADD COLUMN signer INTEGER;
ALTER TABLE projects ADD COLUMN sig BLOB;
ALTER TABLE environments ADD COLUMN signer INTEGER;
ALTER TABLE environments ADD COLUMN sig BLOB;
ALTER TABLE grants ADD COLUMN signer INTEGER;
ALTER TABLE grants ADD COLUMN sig BLOB;
ALTER TABLE settings ADD COLUMN signer INTEGER;
ALTER TABLE settings ADD COLUMN sig BLOB;

CREATE TABLE env_keys (
    environment_id INTEGER NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    epoch          INTEGER NOT NULL,
    public_key     BLOB NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (environment_id, epoch)
) STRICT;

CREATE TABLE env_key_seals (
    environment_id INTEGER NOT NULL,
    epoch          INTEGER NOT NULL,
    member_id      INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    sealed         BLOB NOT NULL,
    PRIMARY KEY (environment_id, epoch, member_id),
    FOREIGN KEY (environment_id, epoch) REFERENCES env_keys(environment_id, epoch) ON DELETE CASCADE
) STRICT;
CREATE INDEX env_key_seals_member ON env_key_seals(member_id);

CREATE TABLE project_keys (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    sealed     BLOB NOT NULL,
    PRIMARY KEY (project_id, member_id)
) STRICT;

CREATE TABLE member_keys (
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    purpose   TEXT NOT NULL,
    sealed    BLOB NOT NULL,
    PRIMARY KEY (member_id, purpose)
) STRICT;

CREATE TABLE exposures (
    secret_id      INTEGER NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
    environment_id INTEGER NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    member         TEXT NOT NULL,
    at             INTEGER NOT NULL,
    PRIMARY KEY (secret_id, environment_id, member)
) STRICT;
"#;

/// Version 7: the audit trail is hash-linked and signed by its authors (format 2):
/// each event stores its hash and author (none for an attempt before unlock), and the
/// last event of each commit its author's signature. Keys a member held before being
/// removed and added again stay, so what they signed still verifies.
const V7: &str = r#"
ALTER TABLE audit_events ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_events ADD COLUMN hash BLOB;
ALTER TABLE audit_events ADD COLUMN signer INTEGER;
ALTER TABLE audit_events ADD COLUMN sig BLOB;

CREATE TABLE past_member_keys (
    member_id    INTEGER NOT NULL REFERENCES members(id),
    name         TEXT NOT NULL,
    sign_pk      BLOB NOT NULL,
    kx_pk        BLOB NOT NULL,
    certified_by INTEGER NOT NULL,
    certificate  BLOB NOT NULL,
    replaced_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX past_member_keys_member ON past_member_keys(member_id);

-- The MAC key of the old chain: signatures need no shared key.
DELETE FROM member_keys WHERE purpose = 'audit';
DELETE FROM meta WHERE key = 'audit_head';
"#;

/// Version 8: the trail can be archived, so it may start after event 1, at the head
/// named by its newest archive event; that event and the newest checkpoint are found
/// without a scan.
const V8: &str = r#"
CREATE INDEX audit_events_archive ON audit_events(id) WHERE action = 'audit.archive';
CREATE INDEX audit_events_checkpoint ON audit_events(id) WHERE action = 'audit.checkpoint';
"#;

/// Recovery keys: a third kind of key slot (one per member), sealing an owner's keys.
/// SQLite cannot change a CHECK constraint in place: the table is rebuilt (nothing
/// references it).
const V9: &str = r#"
CREATE TABLE key_slots_v9 (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('passphrase', 'device', 'recovery')),
    kdf         TEXT,
    salt        BLOB,
    wrapped_key BLOB NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    format      INTEGER NOT NULL DEFAULT 1
) STRICT;
INSERT INTO key_slots_v9 (id, member_id, kind, kdf, salt, wrapped_key, label, created_at, format)
    SELECT id, member_id, kind, kdf, salt, wrapped_key, label, created_at, format FROM key_slots;
DROP TABLE key_slots;
ALTER TABLE key_slots_v9 RENAME TO key_slots;
CREATE UNIQUE INDEX key_slots_one_passphrase ON key_slots(member_id) WHERE kind = 'passphrase';
CREATE UNIQUE INDEX key_slots_one_recovery ON key_slots(member_id) WHERE kind = 'recovery';
"#;

/// A team vault's replica: what this file last exchanged with the server, record by
/// record (the server's sequence number, the hash of the body, the row's identity),
/// and the records the server changed while this machine had changed them too, kept
/// until the user chooses (nothing is overwritten silently).
const V10: &str = r#"
CREATE TABLE replica_rows (
    scope      INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    key        TEXT NOT NULL,
    project    INTEGER NOT NULL DEFAULT 0,
    private_to INTEGER,
    about      INTEGER,
    seq        INTEGER NOT NULL,
    hash       BLOB NOT NULL,
    ident      TEXT NOT NULL,
    PRIMARY KEY (scope, kind, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE replica_conflicts (
    scope       INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    server_seq  INTEGER NOT NULL,
    server_body BLOB,
    found_at    INTEGER NOT NULL,
    PRIMARY KEY (scope, kind, key)
) STRICT, WITHOUT ROWID;
"#;

/// A team vault's changes since its last exchange with the server: every replicated
/// row written here (by kind and identity), marked by triggers while the vault is on a
/// team server, so a sync reads and compares those rows only. A pull's own writes are
/// not marks (`team_quiet` is set inside its transaction).
const V11: &str = r#"
CREATE TABLE replica_dirty (
    kind  TEXT NOT NULL,
    ident TEXT NOT NULL,
    PRIMARY KEY (kind, ident)
) STRICT, WITHOUT ROWID;
CREATE INDEX replica_rows_ident ON replica_rows(kind, ident);
-- Changes made before these marks existed: the next sync compares every row once.
UPDATE meta SET value = CAST(json_set(CAST(value AS TEXT), '$.synced_through', 0) AS BLOB)
 WHERE key = 'team';
CREATE TRIGGER replica_dirty_meta_ins AFTER INSERT ON meta
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet') AND NEW.key <> 'failed_unlocks' AND NEW.key NOT LIKE 'team%'
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('vault', json_object('key', NEW.key)); END;
CREATE TRIGGER replica_dirty_meta_upd AFTER UPDATE ON meta
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet') AND NEW.key <> 'failed_unlocks' AND NEW.key NOT LIKE 'team%'
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('vault', json_object('key', OLD.key)), ('vault', json_object('key', NEW.key)); END;
CREATE TRIGGER replica_dirty_meta_del AFTER DELETE ON meta
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet') AND OLD.key <> 'failed_unlocks' AND OLD.key NOT LIKE 'team%'
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('vault', json_object('key', OLD.key)); END;
CREATE TRIGGER replica_dirty_members_ins AFTER INSERT ON members
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('member', json_object('id', NEW.id)); END;
CREATE TRIGGER replica_dirty_members_upd AFTER UPDATE ON members
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('member', json_object('id', OLD.id)), ('member', json_object('id', NEW.id)); END;
CREATE TRIGGER replica_dirty_members_del AFTER DELETE ON members
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('member', json_object('id', OLD.id)); END;
CREATE TRIGGER replica_dirty_past_member_keys_ins AFTER INSERT ON past_member_keys
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('past_member_key', json_object('rowid', NEW.rowid)); END;
CREATE TRIGGER replica_dirty_past_member_keys_upd AFTER UPDATE ON past_member_keys
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('past_member_key', json_object('rowid', OLD.rowid)), ('past_member_key', json_object('rowid', NEW.rowid)); END;
CREATE TRIGGER replica_dirty_past_member_keys_del AFTER DELETE ON past_member_keys
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('past_member_key', json_object('rowid', OLD.rowid)); END;
CREATE TRIGGER replica_dirty_member_keys_ins AFTER INSERT ON member_keys
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('member_key', json_object('member_id', NEW.member_id, 'purpose', NEW.purpose)); END;
CREATE TRIGGER replica_dirty_member_keys_upd AFTER UPDATE ON member_keys
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('member_key', json_object('member_id', OLD.member_id, 'purpose', OLD.purpose)), ('member_key', json_object('member_id', NEW.member_id, 'purpose', NEW.purpose)); END;
CREATE TRIGGER replica_dirty_member_keys_del AFTER DELETE ON member_keys
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('member_key', json_object('member_id', OLD.member_id, 'purpose', OLD.purpose)); END;
CREATE TRIGGER replica_dirty_workspaces_ins AFTER INSERT ON workspaces
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('workspace', json_object('id', NEW.id)); END;
CREATE TRIGGER replica_dirty_workspaces_upd AFTER UPDATE ON workspaces
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('workspace', json_object('id', OLD.id)), ('workspace', json_object('id', NEW.id)); END;
CREATE TRIGGER replica_dirty_workspaces_del AFTER DELETE ON workspaces
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('workspace', json_object('id', OLD.id)); END;
CREATE TRIGGER replica_dirty_settings_ins AFTER INSERT ON settings
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('setting', json_object('key', NEW.key, 'workspace_id', NEW.workspace_id)); END;
CREATE TRIGGER replica_dirty_settings_upd AFTER UPDATE ON settings
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('setting', json_object('key', OLD.key, 'workspace_id', OLD.workspace_id)), ('setting', json_object('key', NEW.key, 'workspace_id', NEW.workspace_id)); END;
CREATE TRIGGER replica_dirty_settings_del AFTER DELETE ON settings
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('setting', json_object('key', OLD.key, 'workspace_id', OLD.workspace_id)); END;
CREATE TRIGGER replica_dirty_grants_ins AFTER INSERT ON grants
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('grant', json_object('member_id', NEW.member_id, 'project_id', NEW.project_id, 'workspace_id', NEW.workspace_id)); END;
CREATE TRIGGER replica_dirty_grants_upd AFTER UPDATE ON grants
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('grant', json_object('member_id', OLD.member_id, 'project_id', OLD.project_id, 'workspace_id', OLD.workspace_id)), ('grant', json_object('member_id', NEW.member_id, 'project_id', NEW.project_id, 'workspace_id', NEW.workspace_id)); END;
CREATE TRIGGER replica_dirty_grants_del AFTER DELETE ON grants
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('grant', json_object('member_id', OLD.member_id, 'project_id', OLD.project_id, 'workspace_id', OLD.workspace_id)); END;
CREATE TRIGGER replica_dirty_projects_ins AFTER INSERT ON projects
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('project', json_object('id', NEW.id)); END;
CREATE TRIGGER replica_dirty_projects_upd AFTER UPDATE ON projects
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('project', json_object('id', OLD.id)), ('project', json_object('id', NEW.id)); END;
CREATE TRIGGER replica_dirty_projects_del AFTER DELETE ON projects
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('project', json_object('id', OLD.id)); END;
CREATE TRIGGER replica_dirty_project_keys_ins AFTER INSERT ON project_keys
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('project_key', json_object('member_id', NEW.member_id, 'project_id', NEW.project_id)); END;
CREATE TRIGGER replica_dirty_project_keys_upd AFTER UPDATE ON project_keys
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('project_key', json_object('member_id', OLD.member_id, 'project_id', OLD.project_id)), ('project_key', json_object('member_id', NEW.member_id, 'project_id', NEW.project_id)); END;
CREATE TRIGGER replica_dirty_project_keys_del AFTER DELETE ON project_keys
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('project_key', json_object('member_id', OLD.member_id, 'project_id', OLD.project_id)); END;
CREATE TRIGGER replica_dirty_environments_ins AFTER INSERT ON environments
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('environment', json_object('id', NEW.id)); END;
CREATE TRIGGER replica_dirty_environments_upd AFTER UPDATE ON environments
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('environment', json_object('id', OLD.id)), ('environment', json_object('id', NEW.id)); END;
CREATE TRIGGER replica_dirty_environments_del AFTER DELETE ON environments
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('environment', json_object('id', OLD.id)); END;
CREATE TRIGGER replica_dirty_env_keys_ins AFTER INSERT ON env_keys
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('env_key', json_object('environment_id', NEW.environment_id, 'epoch', NEW.epoch)); END;
CREATE TRIGGER replica_dirty_env_keys_upd AFTER UPDATE ON env_keys
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('env_key', json_object('environment_id', OLD.environment_id, 'epoch', OLD.epoch)), ('env_key', json_object('environment_id', NEW.environment_id, 'epoch', NEW.epoch)); END;
CREATE TRIGGER replica_dirty_env_keys_del AFTER DELETE ON env_keys
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('env_key', json_object('environment_id', OLD.environment_id, 'epoch', OLD.epoch)); END;
CREATE TRIGGER replica_dirty_env_key_seals_ins AFTER INSERT ON env_key_seals
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('env_key_seal', json_object('environment_id', NEW.environment_id, 'epoch', NEW.epoch, 'member_id', NEW.member_id)); END;
CREATE TRIGGER replica_dirty_env_key_seals_upd AFTER UPDATE ON env_key_seals
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('env_key_seal', json_object('environment_id', OLD.environment_id, 'epoch', OLD.epoch, 'member_id', OLD.member_id)), ('env_key_seal', json_object('environment_id', NEW.environment_id, 'epoch', NEW.epoch, 'member_id', NEW.member_id)); END;
CREATE TRIGGER replica_dirty_env_key_seals_del AFTER DELETE ON env_key_seals
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('env_key_seal', json_object('environment_id', OLD.environment_id, 'epoch', OLD.epoch, 'member_id', OLD.member_id)); END;
CREATE TRIGGER replica_dirty_secrets_ins AFTER INSERT ON secrets
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('secret', json_object('id', NEW.id)); END;
CREATE TRIGGER replica_dirty_secrets_upd AFTER UPDATE ON secrets
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('secret', json_object('id', OLD.id)), ('secret', json_object('id', NEW.id)); END;
CREATE TRIGGER replica_dirty_secrets_del AFTER DELETE ON secrets
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('secret', json_object('id', OLD.id)); END;
CREATE TRIGGER replica_dirty_versions_ins AFTER INSERT ON versions
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('version', json_object('id', NEW.id)); END;
CREATE TRIGGER replica_dirty_versions_upd AFTER UPDATE ON versions
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('version', json_object('id', OLD.id)), ('version', json_object('id', NEW.id)); END;
CREATE TRIGGER replica_dirty_versions_del AFTER DELETE ON versions
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('version', json_object('id', OLD.id)); END;
CREATE TRIGGER replica_dirty_exposures_ins AFTER INSERT ON exposures
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('exposure', json_object('environment_id', NEW.environment_id, 'member', NEW.member, 'secret_id', NEW.secret_id)); END;
CREATE TRIGGER replica_dirty_exposures_upd AFTER UPDATE ON exposures
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('exposure', json_object('environment_id', OLD.environment_id, 'member', OLD.member, 'secret_id', OLD.secret_id)), ('exposure', json_object('environment_id', NEW.environment_id, 'member', NEW.member, 'secret_id', NEW.secret_id)); END;
CREATE TRIGGER replica_dirty_exposures_del AFTER DELETE ON exposures
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('exposure', json_object('environment_id', OLD.environment_id, 'member', OLD.member, 'secret_id', OLD.secret_id)); END;
CREATE TRIGGER replica_dirty_usages_ins AFTER INSERT ON usages
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('usage', json_object('col', NEW.col, 'file', NEW.file, 'line', NEW.line, 'project_id', NEW.project_id, 'secret', NEW.secret)); END;
CREATE TRIGGER replica_dirty_usages_upd AFTER UPDATE ON usages
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('usage', json_object('col', OLD.col, 'file', OLD.file, 'line', OLD.line, 'project_id', OLD.project_id, 'secret', OLD.secret)), ('usage', json_object('col', NEW.col, 'file', NEW.file, 'line', NEW.line, 'project_id', NEW.project_id, 'secret', NEW.secret)); END;
CREATE TRIGGER replica_dirty_usages_del AFTER DELETE ON usages
WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team') AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'team_quiet')
BEGIN INSERT OR IGNORE INTO replica_dirty (kind, ident) VALUES ('usage', json_object('col', OLD.col, 'file', OLD.file, 'line', OLD.line, 'project_id', OLD.project_id, 'secret', OLD.secret)); END;
"#;

/// Version 12: a replica keeps the body it last exchanged of a record whose fields merge
/// one by one (a secret's metadata), so a change made here and one made on the server
/// to different fields both stand instead of conflicting. NULL until next exchanged.
const V12: &str = "ALTER TABLE replica_rows ADD COLUMN base BLOB;";

const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12];

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect())
}

/// Number of migrations this build knows.
pub(crate) fn known_version() -> usize {
    MIGRATIONS.len()
}

/// Whether an existing vault's schema is older than this build's (an empty file, at
/// version 0, is a new vault: nothing to keep).
pub(crate) fn upgrade_due(conn: &Connection) -> Result<bool> {
    let found: usize = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    Ok(found > 0 && found < known_version())
}

/// Brings the schema up to date in one transaction, or refuses a newer vault.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let found: usize = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    if found > known_version() {
        return Err(Error::SchemaTooNew {
            found,
            known: known_version(),
        });
    }
    if found == known_version() {
        return Ok(());
    }
    migrations()
        .to_latest(conn)
        .map_err(|e| Error::Storage(format!("could not upgrade the vault schema: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid_and_counted() {
        assert!(migrations().validate().is_ok());
        let mut c = Connection::open_in_memory().unwrap();
        migrate(&mut c).unwrap();
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v as usize, known_version());
        migrate(&mut c).unwrap();
    }

    /// A member, a workspace and a project: what a row of an old schema hangs on.
    const BASE_ROWS: &str = "INSERT INTO members(id, name, created_at) VALUES (1, 'alice', 0);
         INSERT INTO workspaces(id, name, wrapped_key, created_at) VALUES (1, 'w', x'00', 0);
         INSERT INTO projects(id, workspace_id, name, created_at) VALUES (1, 1, 'p', 0);";

    #[test]
    fn a_v2_vault_gains_allowed_hosts_and_keeps_its_rows() {
        let mut c = Connection::open_in_memory().unwrap();
        Migrations::new(vec![M::up(V1), M::up(V2)])
            .to_latest(&mut c)
            .unwrap();
        c.execute_batch(BASE_ROWS).unwrap();
        c.execute_batch(
            "INSERT INTO secrets(project_id, name, kind, scope, owner_id, created_at, updated_at)
                 VALUES (1, 'OLD', 'string', 'workspace', 1, 0, 0);",
        )
        .unwrap();
        migrate(&mut c).unwrap();
        let hosts: String = c
            .query_row(
                "SELECT allowed_hosts FROM secrets WHERE name = 'OLD'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            hosts, "[]",
            "an old secret allows no host until a writer says so"
        );
    }

    #[test]
    fn a_v3_vault_forgets_the_fingerprints_of_destroyed_versions() {
        let mut c = Connection::open_in_memory().unwrap();
        Migrations::new(vec![M::up(V1), M::up(V2), M::up(V3)])
            .to_latest(&mut c)
            .unwrap();
        c.execute_batch(BASE_ROWS).unwrap();
        c.execute_batch(
            "INSERT INTO environments(id, project_id, name, position, created_at)
                 VALUES (1, 1, 'development', 0, 0);
             INSERT INTO secrets(id, project_id, name, kind, scope, owner_id, created_at, updated_at)
                 VALUES (1, 1, 'K', 'string', 'workspace', 1, 0, 0);
             INSERT INTO versions(secret_id, environment_id, version, ciphertext, fingerprint,
                                  origin, created_at, created_by, superseded_at, destroyed_at)
                 VALUES (1, 1, 1, NULL, x'0102', 'set', 0, 'alice', 5, 9),
                        (1, 1, 2, x'00', x'0304', 'set', 5, 'alice', NULL, NULL);",
        )
        .unwrap();
        migrate(&mut c).unwrap();
        let fps: Vec<Vec<u8>> = c
            .prepare("SELECT fingerprint FROM versions ORDER BY version")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(fps, vec![Vec::new(), vec![3, 4]]);
    }

    #[test]
    fn newer_schema_is_refused() {
        let mut c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        let e = migrate(&mut c).unwrap_err();
        assert!(e.to_string().contains("newer Coffer"), "{e}");
    }

    #[test]
    fn a_failing_migration_leaves_nothing_behind() {
        let mut c = Connection::open_in_memory().unwrap();
        let bad = Migrations::new(vec![
            M::up(V1),
            M::up("CREATE TABLE x(a); SELECT nonsense FROM nowhere;"),
        ]);
        assert!(bad.to_latest(&mut c).is_err());
        let tables: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!((tables, v), (0, 0), "a failed upgrade must roll back whole");
    }
}

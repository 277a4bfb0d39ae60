-- Coffer team vault on PostgreSQL, schema 1.
--
-- The server keeps what a vault file keeps: sealed values, sealed key envelopes, signed
-- rows and signed audit events, as opaque records. It never sees a plaintext or a
-- private key, so it cannot tell a good record from a bad one; clients verify the
-- signatures. What the server does enforce:
--   * every member is their own login, in the group {{members}};
--   * members may only SELECT, and row-level security decides which rows they see: the
--     workspaces and projects they are granted, their own key envelopes, the members
--     they share a workspace with; another workspace is invisible;
--   * writes go only through the functions below, each one transaction: capability
--     check, compare-and-set on each record's sequence number, the workspace's head row
--     locked so commit order is sequence order, audit events appended only onto the
--     chain's head, and a NOTIFY carrying the new sequence number alone.
-- Tables and functions belong to the role that created the schema (the database's
-- administrator); the functions run as it (SECURITY DEFINER, fixed search_path).
--
-- Errors raised on purpose carry SQLSTATEs Coffer maps to its exit codes:
--   CF403 denied (4), CF404 not found (3), CF409 conflict (5), CF422 invalid (2).

-- Scopes: 0 is the vault itself (members, their public keys, vault-wide settings);
-- every other id is a workspace. Each scope has a head row: its last sequence number
-- and the LISTEN channel (random, so a member cannot guess another workspace's).
CREATE TABLE coffer.heads (
    scope    bigint PRIMARY KEY,
    seq      bigint NOT NULL DEFAULT 0,
    channel  text   NOT NULL UNIQUE DEFAULT 'coffer_' || replace(gen_random_uuid()::text, '-', ''),
    -- The hash of the newest audit event of this scope (NULL before the first).
    chain    bytea
);

CREATE TABLE coffer.members (
    id          bigint PRIMARY KEY,
    -- NULL: a member of the vault who has not joined the team server yet.
    login       name   UNIQUE,
    -- The vault's root owner (the root of trust): may manage vault-wide records.
    root        boolean NOT NULL DEFAULT false,
    removed_at  timestamptz
);

-- Who holds which role where: the server's copy of the grants, kept by the functions
-- from what managers commit. The signed grant rows stay the authority for clients;
-- this table is what the server can enforce (who may read and write which rows).
CREATE TABLE coffer.access (
    member_id    bigint NOT NULL REFERENCES coffer.members(id) ON DELETE CASCADE,
    scope        bigint NOT NULL REFERENCES coffer.heads(scope),
    -- 0: the whole workspace.
    project_id   bigint NOT NULL DEFAULT 0,
    role         text   NOT NULL CHECK (role IN ('viewer', 'developer', 'admin', 'auditor', 'owner')),
    PRIMARY KEY (member_id, scope, project_id)
);

-- Every replicated row of a vault, by kind and key.
CREATE TABLE coffer.records (
    scope       bigint NOT NULL REFERENCES coffer.heads(scope),
    kind        text   NOT NULL CHECK (kind ~ '^[a-z_]{1,32}$'),
    key         text   NOT NULL CHECK (length(key) BETWEEN 1 AND 512),
    -- 0: not inside one project.
    project_id  bigint NOT NULL DEFAULT 0,
    -- Not NULL: only this member reads the record (their key envelopes, a user-scoped
    -- secret). NULL: everyone who may read the scope (and project).
    private_to  bigint,
    -- For vault-wide records about a member: readable by those who share a workspace
    -- with them (another tenant's members stay invisible).
    about       bigint,
    -- The sequence number of the commit that wrote it last.
    seq         bigint NOT NULL,
    -- NULL: deleted (kept as a tombstone so every replica learns of it).
    body        bytea CHECK (octet_length(body) <= 1048576),
    PRIMARY KEY (scope, kind, key)
);
CREATE INDEX records_since ON coffer.records(scope, seq);

-- The audit trail: signed events, appended only, each naming the hash of the one
-- before it in its scope.
CREATE TABLE coffer.events (
    scope   bigint NOT NULL REFERENCES coffer.heads(scope),
    seq     bigint NOT NULL,
    n       int    NOT NULL,
    prev    bytea,
    hash    bytea  NOT NULL CHECK (octet_length(hash) = 32),
    author  bigint,
    body    bytea  NOT NULL CHECK (octet_length(body) <= 65536),
    PRIMARY KEY (scope, seq, n)
);

-- What committing a record of each kind needs: a capability in its scope (and project),
-- or, for vault-wide kinds, being the root owner. Kinds not listed here are refused.
CREATE TABLE coffer.kinds (
    kind        text PRIMARY KEY,
    capability  text NOT NULL CHECK (capability IN ('list', 'use', 'reveal', 'write', 'delete', 'audit', 'manage', 'root')),
    -- A member may always write their own private records of this kind.
    self_write  boolean NOT NULL DEFAULT false
);
INSERT INTO coffer.kinds (kind, capability, self_write) VALUES
    ('vault',        'root',   false),
    ('member',       'manage', false),
    ('member_pk',    'manage', false),
    ('past_member_key', 'manage', false),
    ('key_slot',     'root',   true),
    ('member_key',   'root',   true),
    ('workspace',    'manage', false),
    ('project',      'manage', false),
    ('environment',  'manage', false),
    ('grant',        'manage', false),
    ('setting',      'manage', false),
    ('env_key',      'manage', false),
    ('env_key_seal', 'manage', false),
    ('project_key',  'manage', false),
    ('exposure',     'manage', false),
    ('secret',       'write',  false),
    ('version',      'write',  false),
    ('usage',        'write',  false);

-- The roles' capabilities, as `access.rs` has them (a test keeps the two equal).
CREATE FUNCTION coffer.role_allows(role text, cap text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE role
        WHEN 'viewer'    THEN cap = 'list'
        WHEN 'developer' THEN cap IN ('list', 'use')
        WHEN 'admin'     THEN cap IN ('list', 'use', 'write', 'delete')
        WHEN 'auditor'   THEN cap IN ('list', 'audit')
        WHEN 'owner'     THEN cap IN ('list', 'use', 'reveal', 'write', 'delete', 'audit', 'manage')
        ELSE false
    END
$$;

-- The member this session logged in as; NULL for anyone else (the administrator, a
-- removed member). `session_user`, not `current_user`: inside these functions the
-- current user is their owner.
CREATE FUNCTION coffer.me() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT id FROM coffer.members WHERE login = session_user AND removed_at IS NULL
$$;

CREATE FUNCTION coffer.is_root() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT root FROM coffer.members WHERE login = session_user AND removed_at IS NULL), false)
$$;

-- Whether the session's member holds `cap` in (scope, project); project 0 asks for the
-- whole workspace, which only a workspace-wide grant gives. The vault scope (0) is
-- the root owner's alone: a member who owns a workspace they created themselves must
-- not count as managing the vault.
CREATE FUNCTION coffer.may(p_scope bigint, p_project bigint, cap text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN cap = 'root' OR p_scope = 0 THEN coffer.is_root()
    ELSE EXISTS (
        SELECT 1 FROM coffer.access a
        WHERE a.member_id = coffer.me() AND a.scope = p_scope
          AND (a.project_id = 0 OR a.project_id = p_project)
          AND coffer.role_allows(a.role, cap))
    END
$$;

-- Whether the session's member may read a record placed so.
CREATE FUNCTION coffer.may_read(p_scope bigint, p_project bigint, p_private bigint, p_about bigint)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coffer.me() IS NOT NULL AND CASE
        WHEN p_private IS NOT NULL THEN p_private = coffer.me()
        WHEN p_scope = 0 THEN p_about IS NULL OR p_about = coffer.me() OR coffer.is_root()
            OR EXISTS (SELECT 1 FROM coffer.access mine JOIN coffer.access theirs USING (scope)
                       WHERE mine.member_id = coffer.me() AND theirs.member_id = p_about)
        ELSE EXISTS (SELECT 1 FROM coffer.access a
                     WHERE a.member_id = coffer.me() AND a.scope = p_scope
                       AND (a.project_id = 0 OR p_project = 0 OR a.project_id = p_project))
    END
$$;

ALTER TABLE coffer.heads   ENABLE ROW LEVEL SECURITY;
ALTER TABLE coffer.members ENABLE ROW LEVEL SECURITY;
ALTER TABLE coffer.access  ENABLE ROW LEVEL SECURITY;
ALTER TABLE coffer.records ENABLE ROW LEVEL SECURITY;
ALTER TABLE coffer.events  ENABLE ROW LEVEL SECURITY;
ALTER TABLE coffer.kinds   ENABLE ROW LEVEL SECURITY;
ALTER TABLE coffer.heads   FORCE ROW LEVEL SECURITY;
ALTER TABLE coffer.members FORCE ROW LEVEL SECURITY;
ALTER TABLE coffer.access  FORCE ROW LEVEL SECURITY;
ALTER TABLE coffer.records FORCE ROW LEVEL SECURITY;
ALTER TABLE coffer.events  FORCE ROW LEVEL SECURITY;
ALTER TABLE coffer.kinds   FORCE ROW LEVEL SECURITY;

-- Ending a removed member's sessions needs pg_signal_backend when the owner is not a
-- superuser; an owner who cannot be given it is told so (removal then fails loudly).
DO $$ BEGIN
    IF NOT pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') THEN
        EXECUTE format('GRANT pg_signal_backend TO %I', current_user);
    END IF;
EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation OR unique_violation THEN
    RAISE NOTICE 'could not grant pg_signal_backend to %: removing a member will fail until an administrator does', current_user;
END $$;

-- The owner (through the functions) sees and writes everything.
CREATE POLICY owner_all ON coffer.heads   TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON coffer.members TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON coffer.access  TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON coffer.records TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON coffer.events  TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON coffer.kinds   TO CURRENT_USER USING (true) WITH CHECK (true);

-- Members read.
CREATE POLICY member_read ON coffer.heads FOR SELECT TO {{members}}
    USING (coffer.may_read(scope, 0, NULL, NULL));
CREATE POLICY member_read ON coffer.members FOR SELECT TO {{members}}
    USING (coffer.may_read(0, 0, NULL, id));
CREATE POLICY member_read ON coffer.access FOR SELECT TO {{members}}
    USING (coffer.may_read(scope, project_id, NULL, NULL));
CREATE POLICY member_read ON coffer.records FOR SELECT TO {{members}}
    USING (coffer.may_read(scope, project_id, private_to, about));
CREATE POLICY member_read ON coffer.events FOR SELECT TO {{members}}
    USING (coffer.may(scope, 0, 'audit') OR (scope = 0 AND coffer.is_root()));
CREATE POLICY member_read ON coffer.kinds FOR SELECT TO {{members}} USING (true);

REVOKE ALL ON ALL TABLES IN SCHEMA coffer FROM PUBLIC;
GRANT USAGE ON SCHEMA coffer TO {{members}};
GRANT SELECT ON ALL TABLES IN SCHEMA coffer TO {{members}};

-- Whether the session's member may write (or delete) a record of this kind placed so.
-- Another member's private record is written only by those who manage (sealing a key
-- to them); deleting what `write` writes needs `delete`.
CREATE FUNCTION coffer.may_write(p_scope bigint, p_project bigint, p_private bigint,
                                 rule coffer.kinds, deleting boolean) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT (p_private IS NULL OR p_private = coffer.me() OR rule.capability IN ('manage', 'root'))
       AND (coffer.may(p_scope, p_project, rule.capability)
            OR (rule.self_write AND p_scope = 0 AND p_private = coffer.me()))
       AND (NOT deleting OR rule.capability <> 'write' OR coffer.may(p_scope, p_project, 'delete'))
$$;

-- One commit: records written or deleted (body NULL) and audit events appended, in one
-- scope, as one transaction; returns the commit's sequence number.
--   expect[i]: NULL = the record must not exist yet (or be a tombstone); otherwise the
--   sequence number the writer last saw on it (compare-and-set).
--   Events: a prev given must be the scope's chain head (each next one the hash before);
--   none given appends at the head.
CREATE FUNCTION coffer.commit(
    p_scope bigint,
    p_kinds text[], p_keys text[], p_projects bigint[], p_privates bigint[], p_abouts bigint[],
    p_expects bigint[], p_bodies bytea[],
    p_ev_prevs bytea[], p_ev_hashes bytea[], p_ev_bodies bytea[])
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me       bigint := coffer.me();
    head     coffer.heads;
    next_seq bigint;
    rule     coffer.kinds;
    cur      coffer.records;
    n        int := coalesce(cardinality(p_kinds), 0);
    m        int := coalesce(cardinality(p_ev_hashes), 0);
    prev     bytea;
BEGIN
    IF me IS NULL THEN
        RAISE EXCEPTION 'not a member of this vault' USING ERRCODE = 'CF403';
    END IF;
    IF n + m = 0 THEN
        RAISE EXCEPTION 'an empty commit' USING ERRCODE = 'CF422';
    END IF;
    IF coalesce(cardinality(p_keys), 0) <> n OR coalesce(cardinality(p_projects), 0) <> n
       OR coalesce(cardinality(p_privates), 0) <> n OR coalesce(cardinality(p_abouts), 0) <> n
       OR coalesce(cardinality(p_expects), 0) <> n OR coalesce(cardinality(p_bodies), 0) <> n
       OR coalesce(cardinality(p_ev_prevs), 0) <> m OR coalesce(cardinality(p_ev_bodies), 0) <> m THEN
        RAISE EXCEPTION 'the arrays of a commit differ in length' USING ERRCODE = 'CF422';
    END IF;
    -- The head row, locked: commits of one scope take their numbers in commit order.
    SELECT * INTO head FROM coffer.heads WHERE scope = p_scope FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'workspace not found' USING ERRCODE = 'CF404';
    END IF;
    next_seq := head.seq + 1;

    FOR i IN 1 .. n LOOP
        SELECT * INTO rule FROM coffer.kinds WHERE kind = p_kinds[i];
        IF NOT FOUND THEN
            RAISE EXCEPTION 'unknown kind of record: %', p_kinds[i] USING ERRCODE = 'CF422';
        END IF;
        IF p_scope = 0 AND coalesce(p_projects[i], 0) <> 0 THEN
            RAISE EXCEPTION 'a vault-wide record lies in no project' USING ERRCODE = 'CF422';
        END IF;
        -- A grant's key names its member and project: the project it is checked
        -- against must be the one it grants.
        IF p_kinds[i] = 'grant' AND split_part(p_keys[i], ':', 2) <> coalesce(p_projects[i], 0)::text THEN
            RAISE EXCEPTION 'a grant''s key names the project it is placed in' USING ERRCODE = 'CF422';
        END IF;
        IF NOT coffer.may_write(p_scope, coalesce(p_projects[i], 0), p_privates[i], rule, p_bodies[i] IS NULL) THEN
            RAISE EXCEPTION 'permission denied: % % in this workspace',
                CASE WHEN p_bodies[i] IS NULL THEN 'deleting' ELSE 'writing' END, p_kinds[i]
                USING ERRCODE = 'CF403';
        END IF;
        SELECT * INTO cur FROM coffer.records
            WHERE scope = p_scope AND kind = p_kinds[i] AND key = p_keys[i] FOR UPDATE;
        -- Where the record sits now counts too: a writer of one project cannot take
        -- over a record of another, or another member's private one, by moving it.
        IF FOUND AND NOT coffer.may_write(p_scope, cur.project_id, cur.private_to, rule, p_bodies[i] IS NULL) THEN
            RAISE EXCEPTION 'permission denied: % % in this workspace',
                CASE WHEN p_bodies[i] IS NULL THEN 'deleting' ELSE 'writing' END, p_kinds[i]
                USING ERRCODE = 'CF403';
        END IF;
        IF p_expects[i] IS NULL THEN
            IF FOUND AND cur.body IS NOT NULL THEN
                RAISE EXCEPTION 'conflict: % % was written meanwhile (sequence %)', p_kinds[i], p_keys[i], cur.seq
                    USING ERRCODE = 'CF409';
            END IF;
        ELSIF NOT FOUND OR cur.seq <> p_expects[i] THEN
            RAISE EXCEPTION 'conflict: % % changed meanwhile (expected sequence %, found %)',
                p_kinds[i], p_keys[i], p_expects[i], coalesce(cur.seq::text, 'none')
                USING ERRCODE = 'CF409';
        END IF;
        INSERT INTO coffer.records AS r (scope, kind, key, project_id, private_to, about, seq, body)
            VALUES (p_scope, p_kinds[i], p_keys[i], coalesce(p_projects[i], 0), p_privates[i], p_abouts[i], next_seq, p_bodies[i])
            ON CONFLICT (scope, kind, key) DO UPDATE
            SET project_id = excluded.project_id, private_to = excluded.private_to,
                about = excluded.about, seq = excluded.seq, body = excluded.body;
        -- A grant committed by a manager is what the server enforces from now on.
        IF p_kinds[i] = 'grant' THEN
            PERFORM coffer.apply_grant(p_scope, p_keys[i], p_bodies[i]);
        END IF;
    END LOOP;

    -- Events go only into a scope the writer belongs to.
    IF m > 0 AND NOT coffer.may_read(p_scope, 0, NULL, NULL) THEN
        RAISE EXCEPTION 'permission denied: events of a workspace you are not in' USING ERRCODE = 'CF403';
    END IF;
    prev := head.chain;
    FOR i IN 1 .. m LOOP
        -- A writer that names the head it saw must have seen the head; one that names
        -- none appends at the head, whatever it is.
        IF p_ev_prevs[i] IS NOT NULL AND p_ev_prevs[i] IS DISTINCT FROM prev THEN
            RAISE EXCEPTION 'conflict: the audit trail moved on meanwhile; pull and retry'
                USING ERRCODE = 'CF409';
        END IF;
        INSERT INTO coffer.events (scope, seq, n, prev, hash, author, body)
            VALUES (p_scope, next_seq, i, prev, p_ev_hashes[i], me, p_ev_bodies[i]);
        prev := p_ev_hashes[i];
    END LOOP;

    UPDATE coffer.heads SET seq = next_seq, chain = prev WHERE scope = p_scope;
    PERFORM pg_notify(head.channel, next_seq::text);
    RETURN next_seq;
END
$$;

-- The server's copy of a grant: key "member:project" (project 0: the whole workspace),
-- body the grant row as JSON, whose "role" is the role's name (deleted: body NULL).
CREATE FUNCTION coffer.apply_grant(p_scope bigint, p_key text, p_body bytea) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    parts   text[] := string_to_array(p_key, ':');
    member  bigint;
    project bigint;
BEGIN
    IF cardinality(parts) <> 2 OR parts[1] !~ '^[0-9]+$' OR parts[2] !~ '^[0-9]+$' THEN
        RAISE EXCEPTION 'a grant''s key is member:project' USING ERRCODE = 'CF422';
    END IF;
    member := parts[1]::bigint;
    project := parts[2]::bigint;
    IF p_body IS NULL THEN
        DELETE FROM coffer.access WHERE member_id = member AND scope = p_scope AND project_id = project;
    ELSE
        INSERT INTO coffer.access (member_id, scope, project_id, role)
            VALUES (member, p_scope, project, convert_from(p_body, 'UTF8')::jsonb ->> 'role')
            ON CONFLICT (member_id, scope, project_id) DO UPDATE SET role = excluded.role;
    END IF;
EXCEPTION WHEN foreign_key_violation THEN
    RAISE EXCEPTION 'no such member' USING ERRCODE = 'CF404';
WHEN check_violation OR not_null_violation OR invalid_text_representation THEN
    RAISE EXCEPTION 'a grant names one of the roles' USING ERRCODE = 'CF422';
END
$$;

-- A new workspace: its head row, and the creator as its owner. Any member may create
-- one (as in a vault file), and owns what they create.
CREATE FUNCTION coffer.create_workspace(p_scope bigint) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me bigint := coffer.me();
    ch text;
BEGIN
    IF me IS NULL THEN
        RAISE EXCEPTION 'not a member of this vault' USING ERRCODE = 'CF403';
    END IF;
    IF p_scope <= 0 THEN
        RAISE EXCEPTION 'a workspace id is positive' USING ERRCODE = 'CF422';
    END IF;
    INSERT INTO coffer.heads (scope) VALUES (p_scope) RETURNING channel INTO ch;
    INSERT INTO coffer.access (member_id, scope, project_id, role) VALUES (me, p_scope, 0, 'owner');
    RETURN ch;
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'not available' USING ERRCODE = 'CF409';
END
$$;

-- A member's database role: an opaque name and a SCRAM verifier, in the members'
-- group. Called by the functions below only (not granted to members).
CREATE FUNCTION coffer.make_login(p_login name, p_verifier text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_login !~ '^coffer_m_[0-9a-f]{16}$' OR p_verifier !~ '^SCRAM-SHA-256\$' THEN
        RAISE EXCEPTION 'a login is coffer_m_ and 16 hex digits, with a SCRAM verifier' USING ERRCODE = 'CF422';
    END IF;
    EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE %I', p_login, p_verifier, '{{members_name}}');
END
$$;

-- The first member: the vault's root owner, added by the database administrator who
-- creates the team vault (this function is not granted to members).
CREATE FUNCTION coffer.bootstrap(p_member bigint, p_login name, p_verifier text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM coffer.members) THEN
        RAISE EXCEPTION 'this team vault already has members' USING ERRCODE = 'CF409';
    END IF;
    INSERT INTO coffer.heads (scope) VALUES (0);
    INSERT INTO coffer.members (id, login, root) VALUES (p_member, p_login, true);
    PERFORM coffer.make_login(p_login, p_verifier);
EXCEPTION WHEN duplicate_object THEN
    RAISE EXCEPTION 'not available' USING ERRCODE = 'CF409';
END
$$;

-- A member's login: an opaque role name and a SCRAM verifier computed by the client
-- (the password never reaches the server). Only the root owner adds logins.
CREATE FUNCTION coffer.add_login(p_member bigint, p_login name, p_verifier text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT coffer.is_root() THEN
        RAISE EXCEPTION 'permission denied: only the vault''s root owner adds logins' USING ERRCODE = 'CF403';
    END IF;
    -- A member of the vault who had no login yet gets one; anyone else is new.
    INSERT INTO coffer.members (id, login) VALUES (p_member, p_login)
        ON CONFLICT (id) DO UPDATE SET login = excluded.login
        WHERE coffer.members.login IS NULL AND coffer.members.removed_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'not available' USING ERRCODE = 'CF409';
    END IF;
    PERFORM coffer.make_login(p_login, p_verifier);
EXCEPTION WHEN unique_violation OR duplicate_object THEN
    RAISE EXCEPTION 'not available' USING ERRCODE = 'CF409';
END
$$;

-- Removal: the login can no longer connect, its open sessions end at once, its key
-- envelopes are deleted (tombstones, so replicas drop them too) and its grants go.
-- Rotating the epochs it held is the remover's next commit.
CREATE FUNCTION coffer.remove_member(p_member bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target coffer.members;
    r      record;
BEGIN
    IF coffer.me() IS NULL THEN
        RAISE EXCEPTION 'not a member of this vault' USING ERRCODE = 'CF403';
    END IF;
    SELECT * INTO target FROM coffer.members WHERE id = p_member AND removed_at IS NULL FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'member not found' USING ERRCODE = 'CF404';
    END IF;
    -- The root owner may remove anyone but themselves; a manager, only a member whose
    -- every grant lies in workspaces they manage.
    IF target.root OR NOT (coffer.is_root() OR (
            EXISTS (SELECT 1 FROM coffer.access a WHERE a.member_id = p_member)
            AND NOT EXISTS (SELECT 1 FROM coffer.access a WHERE a.member_id = p_member
                            AND NOT coffer.may(a.scope, 0, 'manage')))) THEN
        RAISE EXCEPTION 'permission denied: removing this member' USING ERRCODE = 'CF403';
    END IF;
    UPDATE coffer.members SET removed_at = now() WHERE id = p_member;
    IF target.login IS NOT NULL THEN
        EXECUTE format('ALTER ROLE %I NOLOGIN PASSWORD NULL', target.login);
        PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = target.login;
    END IF;
    FOR r IN SELECT DISTINCT scope FROM coffer.records WHERE private_to = p_member AND body IS NOT NULL LOOP
        UPDATE coffer.heads SET seq = seq + 1 WHERE scope = r.scope;
        UPDATE coffer.records SET body = NULL,
               seq = (SELECT seq FROM coffer.heads WHERE scope = r.scope)
         WHERE scope = r.scope AND private_to = p_member AND body IS NOT NULL;
        PERFORM pg_notify(h.channel, h.seq::text) FROM coffer.heads h WHERE h.scope = r.scope;
    END LOOP;
    DELETE FROM coffer.access WHERE member_id = p_member;
END
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA coffer FROM PUBLIC;
GRANT EXECUTE ON FUNCTION coffer.me(), coffer.is_root(), coffer.role_allows(text, text),
    coffer.may(bigint, bigint, text), coffer.may_read(bigint, bigint, bigint, bigint),
    coffer.may_write(bigint, bigint, bigint, coffer.kinds, boolean),
    coffer.commit(bigint, text[], text[], bigint[], bigint[], bigint[], bigint[], bytea[], bytea[], bytea[], bytea[]),
    coffer.create_workspace(bigint), coffer.add_login(bigint, name, text),
    coffer.remove_member(bigint)
    TO {{members}};

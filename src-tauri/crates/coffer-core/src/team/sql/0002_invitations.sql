-- Coffer team vault on PostgreSQL, schema 2: members join from their own machines.
--
-- The root owner invites a name with a role in a workspace. The invitation is its own
-- login, valid until it expires, in the group {{invitees}}: it may call coffer.join
-- once and read nothing. The invitee makes their own keys on their own machine and
-- sends through it the public halves and the SCRAM verifier of the login their keys
-- derive (the password never leaves their machine). The owner compares a fingerprint
-- of those public keys, shown on both screens, and only then admits them: their login
-- is made, the invitation's dropped, and the owner's next commit carries the signed
-- member row and the keys sealed to them.

CREATE TABLE coffer.invitations (
    login           name PRIMARY KEY CHECK (login ~ '^coffer_i_[0-9a-f]{16}$'),
    scope           bigint NOT NULL REFERENCES coffer.heads(scope),
    role            text   NOT NULL CHECK (role IN ('viewer', 'developer', 'admin', 'auditor', 'owner')),
    name            text   NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    invited_by      bigint NOT NULL REFERENCES coffer.members(id),
    expires_at      timestamptz NOT NULL,
    -- What the invitee sent (NULL until they join).
    sign_pk         bytea CHECK (octet_length(sign_pk) = 32),
    kx_pk           bytea CHECK (octet_length(kx_pk) = 32),
    member_login    name UNIQUE,
    member_verifier text,
    joined_at       timestamptz,
    -- Admitted (as this member) or cancelled: the invitation's login is gone.
    member_id       bigint,
    ended_at        timestamptz
);
CREATE UNIQUE INDEX invitations_one_open_per_name ON coffer.invitations(name) WHERE ended_at IS NULL;

ALTER TABLE coffer.invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE coffer.invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON coffer.invitations TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY member_read ON coffer.invitations FOR SELECT TO {{members}} USING (coffer.is_root());
REVOKE ALL ON coffer.invitations FROM PUBLIC;
GRANT SELECT ON coffer.invitations TO {{members}};
GRANT USAGE ON SCHEMA coffer TO {{invitees}};

-- Drops an invitation's login (its sessions end first).
CREATE FUNCTION coffer.drop_invitation_login(p_login name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = p_login;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_login) THEN
        EXECUTE format('DROP ROLE %I', p_login);
    END IF;
END
$$;

-- An invitation: `p_login` (coffer_i_ and 16 hex digits) with the SCRAM verifier of a
-- one-time secret the inviter hands over with the code, for `p_name` with `p_role` in
-- workspace `p_scope`, valid for `p_valid`. Only the root owner invites (admitting
-- writes vault-wide rows). One open invitation per name.
CREATE FUNCTION coffer.invite(p_login name, p_verifier text, p_scope bigint, p_role text,
                              p_name text, p_valid interval) RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    until timestamptz := now() + p_valid;
    old   coffer.invitations;
BEGIN
    IF NOT coffer.is_root() THEN
        RAISE EXCEPTION 'permission denied: only the vault''s root owner invites' USING ERRCODE = 'CF403';
    END IF;
    IF p_login !~ '^coffer_i_[0-9a-f]{16}$' OR p_verifier !~ '^SCRAM-SHA-256\$' THEN
        RAISE EXCEPTION 'an invitation''s login is coffer_i_ and 16 hex digits, with a SCRAM verifier' USING ERRCODE = 'CF422';
    END IF;
    IF p_valid <= interval '0' OR p_valid > interval '30 days' THEN
        RAISE EXCEPTION 'an invitation is valid for up to 30 days' USING ERRCODE = 'CF422';
    END IF;
    IF p_scope <= 0 OR NOT EXISTS (SELECT 1 FROM coffer.heads WHERE scope = p_scope) THEN
        RAISE EXCEPTION 'workspace not found on the team server (sync first)' USING ERRCODE = 'CF404';
    END IF;
    -- Invitations past their time end now: their logins go.
    FOR old IN SELECT * FROM coffer.invitations WHERE ended_at IS NULL AND expires_at <= now() FOR UPDATE LOOP
        UPDATE coffer.invitations SET ended_at = now() WHERE login = old.login;
        PERFORM coffer.drop_invitation_login(old.login);
    END LOOP;
    IF EXISTS (SELECT 1 FROM coffer.invitations WHERE name = p_name AND ended_at IS NULL) THEN
        RAISE EXCEPTION 'conflict: % has an open invitation already (cancel it first)', p_name USING ERRCODE = 'CF409';
    END IF;
    INSERT INTO coffer.invitations (login, scope, role, name, invited_by, expires_at)
        VALUES (p_login, p_scope, p_role, p_name, coffer.me(), until);
    EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L VALID UNTIL %L IN ROLE %I',
                   p_login, p_verifier, until, '{{invitees_name}}');
    RETURN until;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    RAISE EXCEPTION 'not available' USING ERRCODE = 'CF409';
WHEN check_violation THEN
    RAISE EXCEPTION 'an invitation names one of the roles and a member name' USING ERRCODE = 'CF422';
END
$$;

-- Called by an invitation's own login, once: the invitee's public keys and the SCRAM
-- verifier of their future login. Returns the name and role they are invited as.
CREATE FUNCTION coffer.join(p_sign_pk bytea, p_kx_pk bytea, p_login name, p_verifier text)
RETURNS TABLE (name text, role text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    inv coffer.invitations;
BEGIN
    SELECT * INTO inv FROM coffer.invitations i WHERE i.login = session_user FOR UPDATE;
    IF NOT FOUND OR inv.ended_at IS NOT NULL OR inv.expires_at <= now() THEN
        RAISE EXCEPTION 'this invitation has ended (expired, cancelled or used)' USING ERRCODE = 'CF403';
    END IF;
    IF inv.joined_at IS NOT NULL THEN
        RAISE EXCEPTION 'conflict: this invitation was used already; ask for a new one' USING ERRCODE = 'CF409';
    END IF;
    IF p_login !~ '^coffer_m_[0-9a-f]{16}$' OR p_verifier !~ '^SCRAM-SHA-256\$'
       OR octet_length(p_sign_pk) <> 32 OR octet_length(p_kx_pk) <> 32 THEN
        RAISE EXCEPTION 'a join names two 32-byte public keys and a member login with its verifier' USING ERRCODE = 'CF422';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_login)
       OR EXISTS (SELECT 1 FROM coffer.members WHERE login = p_login) THEN
        RAISE EXCEPTION 'conflict: these keys have a login here already' USING ERRCODE = 'CF409';
    END IF;
    UPDATE coffer.invitations i SET sign_pk = p_sign_pk, kx_pk = p_kx_pk, member_login = p_login,
           member_verifier = p_verifier, joined_at = now()
     WHERE i.login = inv.login;
    RETURN QUERY SELECT inv.name, inv.role;
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'conflict: these keys have a login here already' USING ERRCODE = 'CF409';
END
$$;

-- Admits the member who joined through invitation `p_login`, as member `p_member`:
-- their login is made and the invitation's dropped. The root owner calls it only after
-- comparing the fingerprint of the keys the invitee sent with the one on their screen.
CREATE FUNCTION coffer.admit(p_login name, p_member bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    inv coffer.invitations;
BEGIN
    IF NOT coffer.is_root() THEN
        RAISE EXCEPTION 'permission denied: only the vault''s root owner admits members' USING ERRCODE = 'CF403';
    END IF;
    SELECT * INTO inv FROM coffer.invitations WHERE login = p_login FOR UPDATE;
    IF NOT FOUND OR inv.ended_at IS NOT NULL OR inv.expires_at <= now() THEN
        RAISE EXCEPTION 'invitation not found (expired, cancelled or used)' USING ERRCODE = 'CF404';
    END IF;
    IF inv.joined_at IS NULL THEN
        RAISE EXCEPTION 'conflict: % has not joined yet (they run coffer team join with the code)', inv.name
            USING ERRCODE = 'CF409';
    END IF;
    -- A member of the vault without a login yet (added before the move) gets this one.
    INSERT INTO coffer.members (id, login) VALUES (p_member, inv.member_login)
        ON CONFLICT (id) DO UPDATE SET login = excluded.login
        WHERE coffer.members.login IS NULL AND coffer.members.removed_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'conflict: member % has a login already', p_member USING ERRCODE = 'CF409';
    END IF;
    PERFORM coffer.make_login(inv.member_login, inv.member_verifier);
    UPDATE coffer.invitations SET member_id = p_member, ended_at = now(), member_verifier = NULL
     WHERE login = p_login;
    PERFORM coffer.drop_invitation_login(p_login);
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    RAISE EXCEPTION 'not available' USING ERRCODE = 'CF409';
END
$$;

-- Cancels an open invitation: its login goes, whether or not anyone joined with it.
CREATE FUNCTION coffer.cancel_invitation(p_name text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    inv coffer.invitations;
BEGIN
    IF NOT coffer.is_root() THEN
        RAISE EXCEPTION 'permission denied: only the vault''s root owner cancels invitations' USING ERRCODE = 'CF403';
    END IF;
    SELECT * INTO inv FROM coffer.invitations WHERE name = p_name AND ended_at IS NULL FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE coffer.invitations SET ended_at = now() WHERE login = inv.login;
    PERFORM coffer.drop_invitation_login(inv.login);
    RETURN true;
END
$$;

-- Removal as schema 1 has it (the login can no longer connect, its open sessions end
-- at once, its key envelopes are deleted and its grants go; rotating the epochs it held
-- is the remover's next commit), with one change: the envelopes' tombstones are
-- readable by everyone in their scope. The manager who sealed them must learn they are
-- gone, or their next commit over them is a conflict; a tombstone holds no body.
CREATE OR REPLACE FUNCTION coffer.remove_member(p_member bigint) RETURNS void
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
        UPDATE coffer.records SET body = NULL, private_to = NULL,
               seq = (SELECT seq FROM coffer.heads WHERE scope = r.scope)
         WHERE scope = r.scope AND private_to = p_member AND body IS NOT NULL;
        PERFORM pg_notify(h.channel, h.seq::text) FROM coffer.heads h WHERE h.scope = r.scope;
    END LOOP;
    DELETE FROM coffer.access WHERE member_id = p_member;
END
$$;

REVOKE ALL ON FUNCTION coffer.drop_invitation_login(name),
    coffer.invite(name, text, bigint, text, text, interval),
    coffer.join(bytea, bytea, name, text),
    coffer.admit(name, bigint),
    coffer.cancel_invitation(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION coffer.invite(name, text, bigint, text, text, interval),
    coffer.admit(name, bigint), coffer.cancel_invitation(text) TO {{members}};
GRANT EXECUTE ON FUNCTION coffer.join(bytea, bytea, name, text) TO {{invitees}};

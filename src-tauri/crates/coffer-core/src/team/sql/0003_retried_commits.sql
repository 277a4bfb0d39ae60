-- Coffer team vault on PostgreSQL, schema 3: a commit retried after its answer was
-- lost appends none of its audit events twice.
--
-- A client whose connection breaks after the server committed does not know its
-- events landed, and sends them again with its next commit. Events are found by their
-- hash (unique in a scope: each names the one before it in its author's chain), so
-- the retry skips those the scope already holds.

CREATE INDEX events_by_hash ON coffer.events(scope, hash);

-- One commit: records written or deleted (body NULL) and audit events appended, in one
-- scope, as one transaction; returns the commit's sequence number.
--   expect[i]: NULL = the record must not exist yet (or be a tombstone); otherwise the
--   sequence number the writer last saw on it (compare-and-set).
--   Events: a prev given must be the scope's chain head (each next one the hash before);
--   none given appends at the head.
CREATE OR REPLACE FUNCTION coffer.commit(
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
    added    int := 0;
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
        -- An event the scope holds already came in a commit whose answer was lost (the
        -- connection broke after it committed): the retry does not append it twice.
        IF EXISTS (SELECT 1 FROM coffer.events WHERE scope = p_scope AND hash = p_ev_hashes[i]) THEN
            CONTINUE;
        END IF;
        -- A writer that names the head it saw must have seen the head; one that names
        -- none appends at the head, whatever it is.
        IF p_ev_prevs[i] IS NOT NULL AND p_ev_prevs[i] IS DISTINCT FROM prev THEN
            RAISE EXCEPTION 'conflict: the audit trail moved on meanwhile; pull and retry'
                USING ERRCODE = 'CF409';
        END IF;
        INSERT INTO coffer.events (scope, seq, n, prev, hash, author, body)
            VALUES (p_scope, next_seq, i, prev, p_ev_hashes[i], me, p_ev_bodies[i]);
        prev := p_ev_hashes[i];
        added := added + 1;
    END LOOP;
    -- Nothing new at all (a retry of events alone): no new sequence number.
    IF n = 0 AND added = 0 THEN
        RETURN head.seq;
    END IF;

    UPDATE coffer.heads SET seq = next_seq, chain = prev WHERE scope = p_scope;
    PERFORM pg_notify(head.channel, next_seq::text);
    RETURN next_seq;
END
$$;

REVOKE ALL ON FUNCTION coffer.commit(bigint, text[], text[], bigint[], bigint[], bigint[], bigint[], bytea[], bytea[], bytea[], bytea[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION coffer.commit(bigint, text[], text[], bigint[], bigint[], bigint[], bigint[], bytea[], bytea[], bytea[], bytea[]) TO {{members}};

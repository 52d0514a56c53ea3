-- The intake of a pull-request delivery in one round trip: at 2,000 deliveries a second on
-- two cores, ten statements per delivery (each a network round trip) cost more than the
-- work. The function does exactly what src/webhook/intake.rs did statement by statement,
-- inside the caller's single-statement transaction.
--
-- Returns 'duplicate' (delivery id seen before: nothing done), 'already_queued' (the same
-- head is pending) or 'queued:<job id>'.
create function immutabot_intake_review(
    p_guid text, p_event text, p_action text,
    p_installation bigint, p_repo_id bigint, p_owner text, p_name text,
    p_default_branch text, p_private boolean,
    p_number bigint, p_head_sha text, p_payload jsonb, p_key text
) returns text language plpgsql as $$
declare
    v_job bigint;
begin
    insert into deliveries (guid, event, action, installation_id, repository, outcome)
    values (p_guid, p_event, p_action, p_installation, p_owner || '/' || p_name, 'queued')
    on conflict (guid) do nothing;
    if not found then
        return 'duplicate';
    end if;

    insert into installations (id, account_login) values (p_installation, p_owner)
    on conflict (id) do nothing;

    -- Write the repository only when something changed: an update on every delivery would
    -- make them all wait on one row lock until commit.
    perform 1 from repositories
     where id = p_repo_id and installation_id is not distinct from p_installation
       and owner = p_owner and name = p_name
       and (p_default_branch is null or default_branch is not distinct from p_default_branch)
       and private = p_private and removed_at is null;
    if not found then
        insert into repositories (id, installation_id, owner, name, default_branch, private)
        values (p_repo_id, p_installation, p_owner, p_name, p_default_branch, p_private)
        on conflict (id) do update set installation_id = excluded.installation_id,
            owner = excluded.owner, name = excluded.name,
            default_branch = coalesce(excluded.default_branch, repositories.default_branch),
            private = excluded.private, removed_at = null;
    end if;

    insert into pull_requests (repository_id, number, head_sha) values (p_repo_id, p_number, p_head_sha)
    on conflict (repository_id, number)
    do update set head_sha = excluded.head_sha, state = 'open', closed_at = null;

    -- Serialise enqueues of one pull request (see queue::enqueue).
    perform pg_advisory_xact_lock(hashtext(p_key));
    perform 1 from jobs where dedupe_key = p_key and state = 'queued' and head_sha = p_head_sha;
    if found then
        update deliveries set outcome = 'queued', detail = 'already queued' where guid = p_guid;
        return 'already_queued';
    end if;
    update jobs set state = 'superseded', finished_at = now(),
                    last_error = 'superseded by a newer commit'
     where dedupe_key = p_key and state = 'queued' and head_sha is distinct from p_head_sha;
    insert into jobs (kind, delivery_guid, payload, dedupe_key, head_sha)
    values ('review_pull_request', p_guid, p_payload, p_key, p_head_sha)
    returning id into v_job;
    return 'queued:' || v_job;
end
$$;

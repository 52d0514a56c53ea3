-- Typed jobs (src/queue/job.rs) and one implementation of the queue's dedupe and supersede
-- rules.
--
-- A job's payload is the serde form of `queue::job::Job`: its `kind` tag and, for the
-- repository, a `forge` tag. Pending jobs written before are rewritten to that form; every
-- one of them was a GitHub job.
update jobs set payload = jsonb_build_object('kind', kind, 'forge', 'github') || payload
 where state in ('queued', 'running') and jsonb_typeof(payload) = 'object'
   and not payload ? 'forge';

-- Adds jobs, given as parallel arrays in order, as if one by one: a pending job with the
-- same key and head is already the same work (nothing added, null returned); pending jobs of
-- the key for another head are superseded by the new one. A null key never dedupes. Returns
-- the new job's id (or null) per element, in order. queue::enqueue (Rust) and
-- immutabot_intake_reviews both call this; nothing else writes jobs.
create function immutabot_enqueue(
    p_kind text[], p_guid text[], p_payload jsonb[], p_key text[], p_head text[]
) returns bigint[] language plpgsql
-- See immutabot_intake_reviews: a generic plan made while `jobs` was small walks every
-- queued job.
set plan_cache_mode = force_custom_plan
as $$
declare
    v_out bigint[];
begin
    -- Serialise enqueues of one key, in one order for every caller so that two never
    -- deadlock. Advisory locks are re-entrant: callers that took them already lose nothing.
    perform pg_advisory_xact_lock(hashtext(k))
       from unnest(array(select distinct k from unnest(p_key) k
                          where k is not null order by k)) k;

    with input as (
        select *
          from unnest(p_kind, p_guid, p_payload, p_key, p_head)
               with ordinality as u(kind, guid, payload, key, head, ord)
    ),
    -- A job is already queued when its head is the pending one: the head of the previous job
    -- of its key in this call, or else a queued job's. Written as per-key index probes
    -- (a scalar subquery), never a join over every queued job.
    decided as (
        select i.*,
               i.key is not null and coalesce(
                   case when lag(i.ord) over w is not null
                        then i.head is not distinct from lag(i.head) over w end,
                   (select true from jobs j
                     where j.dedupe_key = i.key and j.state = 'queued'
                       and j.head_sha is not distinct from i.head
                     limit 1),
                   false) as already
          from input i
        window w as (partition by i.key order by i.ord)
    ),
    -- Every other job is added; only the last of its key stays queued. Ids are drawn in
    -- order, so a later job of a key always has the larger id (scan::store relies on it).
    queued as (
        select q.*, nextval('jobs_id_seq') as id
          from (select d.*, d.key is null or d.ord = max(d.ord) over (partition by d.key) as last
                  from decided d where not d.already order by d.ord) q
    ),
    -- A key that gets a new job loses every job pending before the call: one by one, the
    -- first new job supersedes it (a pending job of the same head would have made that job
    -- "already queued"). Not only those of another head than the last: for a pending `a`
    -- and new `b` then `a`, `b` supersedes the old `a` before the new `a` comes.
    superseded as (
        update jobs j set state = 'superseded', finished_at = now(),
                          last_error = 'superseded by a newer commit'
         where j.dedupe_key = any(array(select key from queued where last and key is not null))
           and j.state = 'queued'
    ),
    inserted as (
        insert into jobs (id, kind, delivery_guid, payload, dedupe_key, head_sha, state,
                          finished_at, last_error)
        select id, kind, guid, payload, key, head,
               case when last then 'queued' else 'superseded' end,
               case when last then null else now() end,
               case when last then null else 'superseded by a newer commit' end
          from queued order by ord
    )
    select array_agg(q.id order by i.ord) into v_out
      from input i left join queued q on q.ord = i.ord;
    return coalesce(v_out, '{}');
end
$$;

-- The batch intake, as before, but its jobs go through immutabot_enqueue: one definition of
-- dedupe and supersede. The repository rows also record their forge.
create or replace function immutabot_intake_reviews(
    p_guid text[], p_event text[], p_action text[],
    p_installation bigint[], p_repo_id bigint[], p_owner text[], p_name text[],
    p_default_branch text[], p_private boolean[],
    p_number bigint[], p_head_sha text[], p_payload jsonb[], p_key text[]
) returns text[] language plpgsql
set plan_cache_mode = force_custom_plan
as $$
declare
    v_new text[];
    v_fresh bigint[];
    v_ids bigint[];
    v_out text[];
begin
    -- Serialise intake of one pull request before any row is written, every batch taking its
    -- locks in the same order so that two batches never deadlock.
    perform pg_advisory_xact_lock(hashtext(k))
       from unnest(array(select distinct k from unnest(p_key) k order by k)) k;

    -- A separate statement, so that the next one sees these rows.
    with inserted as (
        insert into deliveries (guid, event, action, installation_id, repository, outcome)
        select u.guid, u.event, u.action, u.installation, u.owner || '/' || u.name, 'queued'
          from unnest(p_guid, p_event, p_action, p_installation, p_owner, p_name)
               with ordinality as u(guid, event, action, installation, owner, name, ord)
         order by u.ord
        on conflict (guid) do nothing
        returning guid
    )
    select coalesce(array_agg(guid), '{}') into v_new from inserted;

    with input as (
        select *
          from unnest(p_guid, p_installation, p_repo_id, p_owner, p_name, p_default_branch,
                      p_private, p_number, p_head_sha)
               with ordinality as u(guid, installation, repo_id, owner, name, default_branch,
                                    private, number, head_sha, ord)
    ),
    -- The first occurrence of each delivery id this call inserted.
    fresh as (
        select distinct on (guid) * from input where guid = any(v_new) order by guid, ord
    ),
    installs as (
        insert into installations (id, account_login)
        select distinct on (installation) installation, owner
          from fresh order by installation, ord
        on conflict (id) do nothing
    ),
    -- Write a repository only when something changed: an update on every delivery would make
    -- them all wait on one row lock until commit.
    repos as (
        insert into repositories (id, installation_id, owner, name, default_branch, private)
        select f.repo_id, f.installation, f.owner, f.name, f.default_branch, f.private
          from (select distinct on (repo_id) * from fresh order by repo_id, ord desc) f
         where not exists (
                select 1 from repositories r
                 where r.id = f.repo_id and r.installation_id is not distinct from f.installation
                   and r.owner = f.owner and r.name = f.name
                   and (f.default_branch is null or r.default_branch is not distinct from f.default_branch)
                   and r.private = f.private and r.removed_at is null)
        on conflict (id) do update set installation_id = excluded.installation_id,
            owner = excluded.owner, name = excluded.name,
            default_branch = coalesce(excluded.default_branch, repositories.default_branch),
            private = excluded.private, removed_at = null
    ),
    prs as (
        insert into pull_requests (repository_id, number, head_sha)
        select distinct on (repo_id, number) repo_id, number, head_sha
          from fresh order by repo_id, number, ord desc
        on conflict (repository_id, number)
        do update set head_sha = excluded.head_sha, state = 'open', closed_at = null
    )
    select coalesce(array_agg(ord order by ord), '{}') into v_fresh from fresh;

    v_ids := immutabot_enqueue(
        array(select 'review_pull_request' from unnest(v_fresh) o order by o),
        array(select p_guid[o] from unnest(v_fresh) o order by o),
        array(select p_payload[o] from unnest(v_fresh) o order by o),
        array(select p_key[o] from unnest(v_fresh) o order by o),
        array(select p_head_sha[o] from unnest(v_fresh) o order by o));

    update deliveries set detail = 'already queued'
     where guid = any(array(select p_guid[o] from unnest(v_fresh, v_ids) as t(o, id)
                             where id is null));

    select array_agg(case when f.pos is null then 'duplicate'
                          when v_ids[f.pos] is null then 'already_queued'
                          else 'queued:' || v_ids[f.pos] end
                     order by i.ord)
      into v_out
      from generate_subscripts(p_guid, 1) as i(ord)
      left join unnest(v_fresh) with ordinality as f(o, pos) on f.o = i.ord;
    return coalesce(v_out, '{}');
end
$$;

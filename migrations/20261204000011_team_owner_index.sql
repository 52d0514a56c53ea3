-- The team filter of the report (`?team=@org/team`, src/storage/owners.rs) asks which unit
-- rows a team owns, case-insensitively. Without an index that is a test of every row version
-- of the owner's repositories (305,890 on the benchmark in BENCHMARKS.md, ~600 ms for a team
-- owning 1 % of them); with it, a probe of the team's own rows.

-- The owners of a unit row in lower case, the form the filter compares (GitHub's names are
-- case-insensitive). Immutable: `lower` is, and the result depends on the array alone.
create function immutabot_owner_keys(owners text[]) returns text[]
    language sql immutable strict parallel safe
    as $$ select coalesce(array_agg(lower(o)), '{}') from unnest(owners) as o $$;

-- Every row version, not only current ones: the team's weekly trend and its share 30 days ago
-- read the history too.
create index unit_states_owner_keys on unit_states using gin (immutabot_owner_keys(owners));

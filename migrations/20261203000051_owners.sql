-- Ownership and time to fix (issue 14, items 2 and 5).
--
-- Every unit row carries the owners CODEOWNERS gave its file in the scanned commit, and the
-- highest severity of its unsuppressed findings. A change of either is a new row version,
-- like any other change of a unit, so the history stays one chain of rows per unit key.

alter table unit_states
    add column owners text[] not null default '{}',
    add column severity text check (severity in ('error', 'warning', 'info'));

-- Time to fix walks each unit's row versions in order.
create index unit_states_key_history on unit_states (repository_id, unit_key, valid_from, id);

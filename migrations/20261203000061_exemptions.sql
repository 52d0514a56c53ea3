-- The exemption that covers (or covered, until it expired) each unit: how it is written,
-- why, and its last day. A unit whose exemption lapsed is writable again (state 'false')
-- but keeps these, so the report can list the exemption as expired.
alter table unit_states add column exempt_kind text
    check (exempt_kind in ('comment', 'annotation', 'config'));
alter table unit_states add column exempt_reason text;
alter table unit_states add column exempt_expires date;

-- The report's exemptions list: current rows with an exemption.
create index unit_states_exempt on unit_states (repository_id)
    where valid_to is null and exempt_kind is not null;

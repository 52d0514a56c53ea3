-- Indexes for the compliance report (src/report/), sized on the benchmark in BENCHMARKS.md
-- (2,000 repositories, 104,000 scans, 200,000 current units).

-- The weekly trend reads every finished scan of an owner's repositories, newest first per
-- repository, with its counts: an index-only scan in exactly that order, no sort, no heap.
create index scans_report_trend on scans (repository_id, finished_at desc)
    include (units, read_only, suppressed, writable, unknown)
    where state = 'done';

-- The per-rule breakdown reads the rules of current units that have any: most units have
-- none once an organisation is mostly read-only.
create index unit_states_current_rules on unit_states (repository_id)
    include (rules)
    where valid_to is null and cardinality(rules) > 0;

-- Open pull-request findings per repository and per rule.
create index findings_open on findings (repository_id, pull_request_id)
    include (rule)
    where state = 'open';

-- GitLab projects and groups beside GitHub repositories and owners (README, design notes:
-- "Two forges in one schema"). GitHub's repository and installation ids share one number
-- space with GitLab's project and group ids, so a forge's own id is kept in `forge_id`,
-- unique per forge. A GitHub row keeps GitHub's id as its row id, as before: redelivered
-- events land on the same row and no foreign key changes. Rows of other forges take negative
-- row ids from their own sequence, so they can never collide with a GitHub id.

create sequence repositories_local_id as bigint increment by -1 start with -1 maxvalue -1;
alter table repositories
    add column forge text not null default 'github' check (forge in ('github', 'gitlab')),
    add column forge_id bigint,
    alter column id set default nextval('repositories_local_id');
update repositories set forge_id = id;

create sequence installations_local_id as bigint increment by -1 start with -1 maxvalue -1;
alter table installations
    add column forge text not null default 'github' check (forge in ('github', 'gitlab')),
    add column forge_id bigint,
    alter column id set default nextval('installations_local_id');
update installations set forge_id = id;

-- Writers that know only GitHub (the intake function, older code, seed scripts) name the row
-- id alone; for GitHub it is the forge's id.
create function immutabot_default_forge_id() returns trigger language plpgsql as $$
begin
    new.forge_id := coalesce(new.forge_id, new.id);
    return new;
end
$$;
create trigger repositories_forge_id before insert on repositories
    for each row execute function immutabot_default_forge_id();
create trigger installations_forge_id before insert on installations
    for each row execute function immutabot_default_forge_id();

alter table repositories
    alter column forge_id set not null,
    add constraint repositories_forge_id unique (forge, forge_id),
    add constraint repositories_row_id
        check ((forge = 'github' and id = forge_id) or (forge <> 'github' and id < 0));
alter table installations
    alter column forge_id set not null,
    add constraint installations_forge_id unique (forge, forge_id),
    add constraint installations_row_id
        check ((forge = 'github' and id = forge_id) or (forge <> 'github' and id < 0));

-- An owner's report on GitLab includes its subgroups: `lower(owner) like 'a/%'` needs a
-- pattern index whatever the database's collation.
create index repositories_owner_prefix on repositories (forge, lower(owner) text_pattern_ops);

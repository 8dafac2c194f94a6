"""PostgreSQL: the database itself refuses a change of `credit_balance` or `token_version`
that does not come from its one writer (`ledger_post`, `user_tokens_revoke`).

Each writer declares itself for the row it is about to change with a transaction-local setting
(`users.services._declare_writer`); a trigger refuses any other change of those columns (a
stale `save()`, a stray `QuerySet.update()`, a hand-written SQL statement) with a check
violation. The second line of defence behind `User.save`; `audit_ledger` is the third.
SQLite has no session settings to check: there `User.save` is the guard.

Superseded by 0009 (`0009_ledger_kept_by_the_database`), which drops this trigger and the
declared-writer setting: the ledger's own INSERT trigger now applies each amount to the balance.
Kept as it was, for the history of a database migrated through it.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION users_user_guard_writers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.credit_balance IS DISTINCT FROM OLD.credit_balance
       AND current_setting('allmine.ledger_post', true) IS DISTINCT FROM NEW.id THEN
        RAISE EXCEPTION 'credit_balance changes only through users.services.ledger_post'
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.token_version IS DISTINCT FROM OLD.token_version
       AND current_setting('allmine.user_tokens_revoke', true) IS DISTINCT FROM NEW.id THEN
        RAISE EXCEPTION 'token_version changes only through users.services.user_tokens_revoke'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER users_user_guard_writers
    BEFORE UPDATE OF credit_balance, token_version ON users_user
    FOR EACH ROW EXECUTE FUNCTION users_user_guard_writers();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS users_user_guard_writers ON users_user;
DROP FUNCTION IF EXISTS users_user_guard_writers();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("users", "0002_ledger_stream_charge_revenue_stream_id")]

    operations = [migrations.RunPython(forward, backward)]

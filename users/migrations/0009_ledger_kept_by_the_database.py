"""PostgreSQL: the database keeps the ledger honest itself (django-hordak's approach). The
"declared writer" handshake of migration 0003 (a transaction-local setting that
`users.services` set before each write and the trigger trusted) goes: nothing here trusts
anything the session says about itself.

Balances (`users_user`):

- inserting ledger rows applies them: an `AFTER INSERT` statement trigger on
  `users_creditledgerentry` locks the users' rows (id order), checks every inserted row's
  `balance_after` against the running balance — the user's balance before the statement plus
  the amounts of their inserted rows that move money (`completed`, `refunded`), in ledger order
  (`created_at`, `id`; `ledger_post` inserts one row per statement, the seeder many) — refuses
  a mismatch or a balance below zero, then adds each user's total to `credit_balance`. Rows
  that move nothing (`pending`, `failed`) must carry the balance as it stands. The user must
  exist when the row is inserted (the foreign key alone, checked at commit, would let a row
  in before its user and skip the balance);
- `credit_balance` changes in no other way: a `BEFORE UPDATE` trigger on `users_user` refuses
  a change of it unless it runs inside a trigger (`pg_trigger_depth() > 1`), and the ledger's
  is the only trigger in the schema that writes the column. A stray `QuerySet.update()`, a
  stale `save()` or hand-written SQL is a check violation;
- a user is inserted at balance 0 (credits come with ledger rows: the seeder's too);
- `token_version` (bumped on logout and on every password change) may only go up by exactly
  one per update. That is what its one writer, `user_tokens_revoke`, does (`F() + 1`), and what
  a stale save can never do: writing back a version read before a revocation lowers it (which
  would revive revoked tokens), so it is refused. A stray `+ 1` elsewhere only revokes tokens.

Append-only money records — `UPDATE` refused:

- ledger rows (`users_creditledgerentry`): never updated, whole rows. The code never changes
  one: a refund is a new row (status `refunded`, positive amount) beside the debit, which keeps
  `completed`; so no status transition needs to be let through;
- credit transfers, store events, gifts, funding payouts: written once, whole rows;
- contributions and mini crowd funding supports: `amount`, payer, target, debit row and
  creation time never change. The one transition the services make (`_refund`) is let through:
  `completed` → `refunded`, setting only `refund_ledger_entry_id` and `refunded_at` (and
  `updated_at`). A refunded record is then frozen (its check constraint already ties the
  status to the refund columns), and no other status change is possible (the services never
  make one: `pending`/`failed` records are never written by the code);
- replay rental charges: `price`, rental, window and debit row never change; the two
  transitions the services make are let through, once, from `active` only: → `refunded`
  (`refund_ledger_entry_id`, `refunded_at`) and → `settled` (`settled_at`, `guest_id`,
  `creator_share`, `guest_share`, `creator_revenue_entry_id`, `guest_revenue_entry_id`).
  The rental row itself (`livestreams_replayrental`) is not a paid record: re-renting updates
  its window and price in place; what was paid is its charges.

A column added to one of these tables later is frozen too until this list names it.

`DELETE` — a money record disappears only with its owner. Deferred constraint triggers
(checked at commit) refuse deleting a ledger row whose user still exists, and a paid record
while any ledger row it links still exists; since a ledger row goes only with its user, a
record goes only with the users its rows belong to. (A store event that credited nothing —
ignored, or a refund not recovered — links no row and moved no money.) That is what
`seed_demo --reset` does (one
transaction deleting the seeded users with all their rows), and what nothing else does: the
`PROTECT` foreign keys keep a user with ledger rows from being deleted through the ORM.
(`TRUNCATE`, as the test runner's flush uses, fires no row trigger.)

An operator who must repair data by hand does it as a superuser with
`SET session_replication_role = replica` (which disables these triggers for that session),
and runs `manage.py audit_ledger` afterwards. The tests that tamper with the books to prove
the audit finds it do the same (`tests.support.tampered`).

SQLite keeps the application-level path: `users.services.ledger_post` updates the balance
beside its row, and `User.save` never writes `credit_balance` or `token_version`.
"""

from django.db import migrations

LEDGER = "users_creditledgerentry"
MONEY = "('completed', 'refunded')"  # CreditLedgerEntry.BALANCE_STATUSES

# Paid records whose rows are written once (update refused) and the ledger links of each.
WRITTEN_ONCE = {
    "users_credittransfer": ["sent_entry_id", "received_entry_id"],
    "users_storeevent": ["ledger_entry_id"],
    "livestreams_gift": ["spend_entry_id", "creator_revenue_entry_id", "guest_revenue_entry_id"],
    "crowdfunding_fundingpayout": ["creator_revenue_entry_id", "guest_revenue_entry_id"],
}
# Paid records with a status: the one status they leave, each status they may reach from it
# with the columns that transition sets, and their ledger links.
REFUNDED = "refunded=refund_ledger_entry_id,refunded_at"
SETTLED = (
    "settled=settled_at,guest_id,creator_share,guest_share,"
    "creator_revenue_entry_id,guest_revenue_entry_id"
)
WITH_STATUS = {
    "crowdfunding_contribution": (
        ["completed", REFUNDED],
        ["ledger_entry_id", "refund_ledger_entry_id"],
    ),
    "crowdfunding_minicrowdfundingsupport": (
        ["completed", REFUNDED],
        ["ledger_entry_id", "refund_ledger_entry_id"],
    ),
    "livestreams_replayrentalcharge": (
        ["active", REFUNDED, SETTLED],
        [
            "ledger_entry_id",
            "refund_ledger_entry_id",
            "creator_revenue_entry_id",
            "guest_revenue_entry_id",
        ],
    ),
}

FUNCTIONS = f"""
CREATE FUNCTION users_user_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.credit_balance <> 0 THEN
            RAISE EXCEPTION 'user %: a user starts at credit_balance 0 (credits come with ledger rows)',
                NEW.id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.credit_balance IS DISTINCT FROM OLD.credit_balance AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'user %: credit_balance changes only by inserting ledger rows', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.token_version IS DISTINCT FROM OLD.token_version
       AND NEW.token_version IS DISTINCT FROM OLD.token_version + 1 THEN
        RAISE EXCEPTION 'user %: token_version only goes up by one (from % to %)',
            NEW.id, OLD.token_version, NEW.token_version USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION users_ledger_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wrong record;
BEGIN
    FOR wrong IN
        WITH opening AS (
            SELECT u.id, u.credit_balance FROM users_user AS u
            WHERE u.id IN (SELECT user_id FROM inserted)
            ORDER BY u.id FOR UPDATE
        ), running AS (
            SELECT i.id, i.user_id, i.balance_after, o.id IS NULL AS no_user,
                   o.credit_balance + sum(CASE WHEN i.status IN {MONEY} THEN i.amount ELSE 0 END)
                       OVER (PARTITION BY i.user_id ORDER BY i.created_at, i.id) AS balance
            FROM inserted AS i LEFT JOIN opening AS o ON o.id = i.user_id
        )
        SELECT * FROM running
        WHERE no_user OR balance < 0 OR balance_after IS DISTINCT FROM balance
    LOOP
        IF wrong.no_user THEN  -- the foreign key is checked at commit: a user made later
            RAISE EXCEPTION 'ledger row %: user % does not exist (yet)', wrong.id, wrong.user_id
                USING ERRCODE = 'check_violation';
        END IF;
        IF wrong.balance < 0 THEN
            RAISE EXCEPTION 'ledger row %: the balance of user % would be % (below zero)',
                wrong.id, wrong.user_id, wrong.balance USING ERRCODE = 'check_violation';
        END IF;
        RAISE EXCEPTION 'ledger row %: balance_after % but the balance of user % is then %',
            wrong.id, wrong.balance_after, wrong.user_id, wrong.balance
            USING ERRCODE = 'check_violation';
    END LOOP;
    UPDATE users_user AS u SET credit_balance = u.credit_balance + t.total
    FROM (
        SELECT user_id, sum(amount) AS total FROM inserted
        WHERE status IN {MONEY} GROUP BY user_id
    ) AS t
    WHERE u.id = t.user_id AND t.total <> 0;
    RETURN NULL;
END
$$;

CREATE FUNCTION users_ledger_deleted_with_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM users_user WHERE id = OLD.user_id) THEN
        RAISE EXCEPTION 'ledger row %: ledger rows are deleted only with their user', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

-- Arguments: the ledger link columns of the record.
CREATE FUNCTION money_record_deleted_with_ledger() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_row jsonb := to_jsonb(OLD);
    links text[] := ARRAY(SELECT old_row ->> link FROM unnest(TG_ARGV) AS link);
BEGIN
    IF EXISTS (SELECT 1 FROM {LEDGER} WHERE id = ANY (links)) THEN
        RAISE EXCEPTION '% %: a money record is deleted only with its ledger rows',
            TG_TABLE_NAME, OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION money_record_written_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% %: money records are append-only (no update)', TG_TABLE_NAME, OLD.id
        USING ERRCODE = 'check_violation';
END
$$;

-- Arguments: the status a record may leave, then each 'status=column,column' it may reach
-- with the columns that transition sets. Nothing else changes (`updated_at` aside).
CREATE FUNCTION money_record_transition() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_row jsonb := to_jsonb(OLD) - 'updated_at';
    new_row jsonb := to_jsonb(NEW) - 'updated_at';
    columns text[];
BEGIN
    IF old_row = new_row THEN
        RETURN NEW;
    END IF;
    IF OLD.status = TG_ARGV[0] THEN
        FOR i IN 1 .. TG_NARGS - 1 LOOP
            columns := string_to_array(split_part(TG_ARGV[i], '=', 2), ',') || '{{status}}'::text[];
            IF NEW.status = split_part(TG_ARGV[i], '=', 1)
               AND old_row - columns = new_row - columns THEN
                RETURN NEW;
            END IF;
        END LOOP;
    END IF;
    RAISE EXCEPTION '% %: a paid record''s amount and links never change; % -> % is no allowed transition',
        TG_TABLE_NAME, OLD.id, OLD.status, NEW.status USING ERRCODE = 'check_violation';
END
$$;
"""


def _quoted(values: list[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _triggers() -> str:
    sql = [
        """
        CREATE TRIGGER users_user_guard
            BEFORE INSERT OR UPDATE OF credit_balance, token_version ON users_user
            FOR EACH ROW EXECUTE FUNCTION users_user_guard();
        CREATE TRIGGER users_ledger_apply
            AFTER INSERT ON users_creditledgerentry REFERENCING NEW TABLE AS inserted
            FOR EACH STATEMENT EXECUTE FUNCTION users_ledger_apply();
        CREATE TRIGGER money_record_written_once
            BEFORE UPDATE ON users_creditledgerentry
            FOR EACH ROW EXECUTE FUNCTION money_record_written_once();
        CREATE CONSTRAINT TRIGGER users_ledger_deleted_with_user
            AFTER DELETE ON users_creditledgerentry DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION users_ledger_deleted_with_user();
        """
    ]
    for table, links in WRITTEN_ONCE.items():
        sql.append(
            f"""
            CREATE TRIGGER money_record_written_once
                BEFORE UPDATE ON {table}
                FOR EACH ROW EXECUTE FUNCTION money_record_written_once();
            """
        )
    for table, (transitions, links) in WITH_STATUS.items():
        sql.append(
            f"""
            CREATE TRIGGER money_record_transition
                BEFORE UPDATE ON {table}
                FOR EACH ROW EXECUTE FUNCTION money_record_transition({_quoted(transitions)});
            """
        )
    for table, links in [*WRITTEN_ONCE.items(), *((t, v[1]) for t, v in WITH_STATUS.items())]:
        sql.append(
            f"""
            CREATE CONSTRAINT TRIGGER money_record_deleted_with_ledger
                AFTER DELETE ON {table} DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION money_record_deleted_with_ledger({_quoted(links)});
            """
        )
    return "".join(sql)


def _drop_triggers() -> str:
    tables = [*WRITTEN_ONCE, *WITH_STATUS]
    sql = [
        f"""
        DROP TRIGGER IF EXISTS users_user_guard ON users_user;
        DROP TRIGGER IF EXISTS users_ledger_apply ON {LEDGER};
        DROP TRIGGER IF EXISTS money_record_written_once ON {LEDGER};
        DROP TRIGGER IF EXISTS users_ledger_deleted_with_user ON {LEDGER};
        """
    ]
    for table in tables:
        sql.append(
            f"""
            DROP TRIGGER IF EXISTS money_record_written_once ON {table};
            DROP TRIGGER IF EXISTS money_record_transition ON {table};
            DROP TRIGGER IF EXISTS money_record_deleted_with_ledger ON {table};
            """
        )
    sql.append(
        """
        DROP FUNCTION IF EXISTS users_user_guard();
        DROP FUNCTION IF EXISTS users_ledger_apply();
        DROP FUNCTION IF EXISTS users_ledger_deleted_with_user();
        DROP FUNCTION IF EXISTS money_record_deleted_with_ledger();
        DROP FUNCTION IF EXISTS money_record_written_once();
        DROP FUNCTION IF EXISTS money_record_transition();
        """
    )
    return "".join(sql)


# Migration 0003's trigger, dropped going forward and restored going back.
HANDSHAKE_DROP = """
DROP TRIGGER IF EXISTS users_user_guard_writers ON users_user;
DROP FUNCTION IF EXISTS users_user_guard_writers();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(HANDSHAKE_DROP)
        schema_editor.execute(FUNCTIONS, params=None)  # `%` is plpgsql's, not a placeholder
        schema_editor.execute(_triggers())


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        from importlib import import_module

        handshake = import_module("users.migrations.0003_guard_balance_and_token_version_writers")
        schema_editor.execute(_drop_triggers())
        schema_editor.execute(handshake.FORWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0008_seed_credit_packages"),
        # The paid records' tables, whose triggers are written here beside the ledger's.
        ("crowdfunding", "0009_streams_marked_paid_out"),
        ("livestreams", "0011_stream_clock_due_indexes"),
    ]

    operations = [migrations.RunPython(forward, backward)]

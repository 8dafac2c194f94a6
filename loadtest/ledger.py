"""Ledger facts for the load test: `python -m loadtest.ledger` prints contributions and
credits as JSON and runs `audit_ledger` (exit 1 on any mismatch)."""

import io
import json
import os
import sys


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allmine.settings")
    import django

    django.setup()

    from django.core.management import call_command
    from django.db.models import Sum

    from crowdfunding.models import Contribution
    from livestreams.models import LiveStream
    from users.models import CreditLedgerEntry, User

    out = io.StringIO()
    try:
        call_command("audit_ledger", stdout=out, stderr=out)
        audit_ok = True
    except SystemExit as exit_:
        audit_ok = exit_.code in (0, None)
    except Exception as error:  # CommandError on a mismatch
        out.write(f"{type(error).__name__}: {error}\n")
        audit_ok = False
    facts = {
        "contributions": Contribution.objects.count(),
        "contributed_credits": Contribution.objects.aggregate(s=Sum("amount"))["s"] or 0,
        "collected_funding": LiveStream.objects.aggregate(s=Sum("collected_funding"))["s"] or 0,
        "ledger_rows": CreditLedgerEntry.objects.count(),
        "credit_balances": User.objects.aggregate(s=Sum("credit_balance"))["s"] or 0,
        "audit_ok": audit_ok,
        "audit_output": out.getvalue().strip()[-1000:],
    }
    print(json.dumps(facts))
    return 0 if audit_ok else 1


if __name__ == "__main__":
    sys.exit(main())

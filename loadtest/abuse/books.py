"""The books after each scenario: the audit and the conservation of credits."""


def books() -> dict:
    """The audit (what `manage.py audit_ledger` checks) and the conservation of credits:
    granted (admin adjustments) + purchased (store purchases) − refunded purchases = balances +
    held by streams and mini crowd fundings not paid out + replay rental charges not yet settled
    + the platform's share of settled ones, of funding payouts and of gifts (the creator's and
    guest's shares are in balances; transfers move credits between balances)."""
    from django.db import connections
    from django.db.models import Exists, F, OuterRef, Sum

    from crowdfunding.audit import ledger_mismatches
    from crowdfunding.models import FundingPayout, MiniCrowdFunding
    from livestreams.models import Gift, LiveStream, ReplayRentalCharge
    from users.models import CreditLedgerEntry, User

    def total(queryset, expression) -> int:
        return queryset.aggregate(s=Sum(expression))["s"] or 0

    connections.close_all()  # a fresh connection: the proxy is not in the way of this process
    mismatches = list(ledger_mismatches())
    Type = CreditLedgerEntry.Type
    granted = total(CreditLedgerEntry.objects.filter(type=Type.ADMIN_ADJUSTMENT), "amount")
    purchases = CreditLedgerEntry.objects.filter(type=Type.CREDIT_PURCHASE)
    purchased = total(purchases.filter(status=CreditLedgerEntry.Status.COMPLETED), "amount")
    refunded = -total(purchases.filter(status=CreditLedgerEntry.Status.REFUNDED), "amount")
    into = granted + purchased - refunded
    balances = total(User.objects.all(), "credit_balance")
    charges = ReplayRentalCharge.objects.all()
    payouts = FundingPayout.objects.all()
    held = (
        total(
            LiveStream.objects.exclude(Exists(payouts.filter(stream=OuterRef("pk")))),
            "collected_funding",
        )
        + total(
            MiniCrowdFunding.objects.exclude(Exists(payouts.filter(stream=OuterRef("stream_id")))),
            "collected",
        )
        + total(charges.filter(status=ReplayRentalCharge.Status.ACTIVE), "price")
    )
    platform = total(
        charges.filter(status=ReplayRentalCharge.Status.SETTLED),
        F("price") - F("creator_share") - F("guest_share"),
    ) + total(payouts, F("total") - F("creator_share") - F("guest_share"))
    platform += total(Gift.objects.all(), F("amount") - F("creator_share") - F("guest_share"))
    return {
        "mismatches": mismatches,
        "granted": into,
        "purchased": purchased,
        "refunded_purchases": refunded,
        "balances": balances,
        "held": held + platform,
        "invented": balances + held + platform - into,
    }

"""The money records, read-only: contributions (with the refund action and the funds overview's
URL), mini crowd funding supports, funding payouts and idempotency records. Amounts, statuses
and totals change only through `crowdfunding.services`."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.template.response import TemplateResponse
from django.urls import path

from allmine.admin_mixins import (
    DateRangeFilter,
    MoneyTotalsMixin,
    ReadOnlyAdminMixin,
    admin_link,
    datetime_column,
    ledger_links,
)
from allmine.ids import is_object_id
from crowdfunding.admin.actions import (
    REFUND_PERMISSION,
    PlannedRefund,
    confirmation_page,
    credits,
    is_confirmed,
    report,
    run_for_each,
)
from crowdfunding.admin.overview import overview_context
from crowdfunding.models import (
    Contribution,
    FundingPayout,
    FundingStatus,
    IdempotencyRecord,
    MiniCrowdFundingSupport,
)
from crowdfunding.services import (
    contribution_refund,
)

PAID_TOTALS = (
    ("Rows", Count("pk")),
    ("Amount", Sum("amount")),
    ("Completed", Sum("amount", filter=Q(status=FundingStatus.COMPLETED))),
    ("Refunded", Sum("amount", filter=Q(status=FundingStatus.REFUNDED))),
)


def payout_ledger_links(payout: FundingPayout) -> str:
    return (
        ledger_links(
            ("creator's share", payout.creator_revenue_entry_id),
            ("guest's share", payout.guest_revenue_entry_id),
        )
        or "-"
    )


class PaidRecordAdmin(MoneyTotalsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Shared by contributions and supports: totals, dates, and links to the ledger rows."""

    target: str  # the relation to what the credits were given to
    date_hierarchy = "created_at"
    money_totals = PAID_TOTALS
    list_per_page = 50
    created = datetime_column("created_at", "Created")
    refunded = datetime_column("refunded_at", "Refunded")

    @admin.display(description="Ledger")
    def ledger_links(self, obj) -> str:
        return ledger_links(("debit", obj.ledger_entry_id), ("refund", obj.refund_ledger_entry_id))

    def get_object(self, request, object_id, from_field=None):
        """One record with everything its page shows (`target`: what it paid for); None for
        an id that is not an ObjectId."""
        if not is_object_id(object_id):
            return None
        queryset = self.get_queryset(request).select_related(
            "user", self.target, "ledger_entry__user", "refund_ledger_entry__user"
        )
        return queryset.filter(pk=object_id).first()


@admin.register(Contribution)
class ContributionAdmin(PaidRecordAdmin):
    """Contributions of all streams. Filter one stream by searching its id, or with
    `?stream=<id>` (the link on the stream's page)."""

    list_display = (
        "created",
        "user",
        "stream_link",
        "amount",
        "status",
        "refunded",
        "ledger_links",
    )
    list_display_links = ("created",)
    list_filter = (
        "status",
        ("created_at", DateRangeFilter),
        ("refunded_at", DateRangeFilter),
    )
    search_fields = ("=id", "user__username", "stream__title", "=stream__id")
    list_select_related = ("user", "stream")
    readonly_fields = (
        "id",
        "user",
        "stream",
        "amount",
        "status",
        "ledger_entry",
        "refund_ledger_entry",
        "created_at",
        "updated_at",
        "refunded_at",
    )
    actions = ["refund_selected"]

    def get_urls(self):
        overview = path(
            "funds-overview/",
            self.admin_site.admin_view(self.funds_overview_view),
            name="crowdfunding_funds_overview",
        )
        return [overview, *super().get_urls()]

    def funds_overview_view(self, request):
        """The funds overview (linked from the admin index): for whoever may view
        contributions."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Funds overview",
            **overview_context(request),
        }
        return TemplateResponse(request, "admin/funds_overview.html", context)

    target = "stream"

    @admin.display(description="Stream", ordering="stream__title")
    def stream_link(self, obj: Contribution) -> str:
        return admin_link(obj.stream)

    def has_refund_permission(self, request) -> bool:
        """Refunding moves money: it needs its own permission, not just staff or view."""
        return request.user.has_perm(REFUND_PERMISSION)

    @admin.action(description="Refund selected contributions", permissions=["refund"])
    def refund_selected(self, request, queryset):
        if not is_confirmed(request):
            selected = queryset.select_related("user", "stream").order_by("user__username", "pk")
            paid_out = set(
                FundingPayout.objects.filter(stream__in=queryset.values("stream_id")).values_list(
                    "stream_id", flat=True
                )
            )

            def skipped(record: Contribution) -> str:
                if record.status != FundingStatus.COMPLETED:
                    return f"contribution is {record.get_status_display().lower()}"
                if record.stream_id in paid_out:
                    return "its stream's funding has been paid out"
                return ""

            plan = [
                PlannedRefund(
                    f"contribution of {record.created_at:%Y-%m-%d %H:%M}",
                    record.stream,
                    record.user,
                    record.amount,
                    skipped=skipped(record),
                )
                for record in selected
            ]
            return confirmation_page(
                self, request, queryset, title="Refund contributions", verb="Refund", plan=plan
            )
        refunded, skipped = run_for_each(
            queryset, lambda pk: contribution_refund(contribution_id=pk)
        )
        done = ""
        if refunded:
            total = sum(contribution.amount for contribution in refunded)
            funders = len({contribution.user_id for contribution in refunded})
            done = (
                f"Refunded {len(refunded)} contribution(s): {credits(total)} "
                f"to {funders} funder(s)."
            )
        report(self, request, done, skipped, "contribution(s)")
        return None


@admin.register(MiniCrowdFundingSupport)
class MiniCrowdFundingSupportAdmin(PaidRecordAdmin):
    list_display = (
        "created",
        "user",
        "mini_crowd_funding",
        "stream_link",
        "amount",
        "status",
        "ledger_links",
    )
    list_display_links = ("created",)
    list_filter = (
        "status",
        ("created_at", DateRangeFilter),
        ("refunded_at", DateRangeFilter),
    )
    search_fields = (
        "=id",
        "user__username",
        "mini_crowd_funding__title",
        "mini_crowd_funding__stream__title",
        "=mini_crowd_funding__id",
        "=mini_crowd_funding__stream__id",
    )
    list_select_related = ("user", "mini_crowd_funding__stream")
    readonly_fields = (
        "id",
        "user",
        "mini_crowd_funding",
        "amount",
        "status",
        "ledger_entry",
        "refund_ledger_entry",
        "created_at",
        "updated_at",
        "refunded_at",
    )

    target = "mini_crowd_funding"

    @admin.display(description="Stream", ordering="mini_crowd_funding__stream__title")
    def stream_link(self, obj: MiniCrowdFundingSupport) -> str:
        return admin_link(obj.mini_crowd_funding.stream)


@admin.register(FundingPayout)
class FundingPayoutAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Ended streams' funding paid out by the clock (`crowdfunding.clock`): records to read."""

    list_display = (
        "paid", "stream_link", "total", "creator_share", "guest_share", "platform_share",
        "revenue_links",
    )  # fmt: skip
    list_display_links = ("paid",)
    list_filter = (("paid_at", DateRangeFilter),)
    search_fields = ("=id", "=stream__id", "stream__title", "stream__creator__username")
    list_select_related = ("stream",)
    readonly_fields = (
        "id", "stream", "total", "creator_share", "guest", "guest_share", "platform_share",
        "revenue_links", "paid_at",
    )  # fmt: skip
    paid = datetime_column("paid_at", "Paid")

    @admin.display(description="Stream", ordering="stream__title")
    def stream_link(self, obj: FundingPayout) -> str:
        return admin_link(obj.stream)

    @admin.display(description="Platform share")
    def platform_share(self, obj: FundingPayout) -> int:
        return obj.platform_share

    @admin.display(description="Ledger")
    def revenue_links(self, obj: FundingPayout) -> str:
        return payout_ledger_links(obj)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Stored first responses of money requests. Read-only: deleting one inside its TTL would
    let a retry charge twice."""

    list_display = ("created_at", "user", "key", "response_status")
    list_filter = ("response_status", "created_at")
    search_fields = ("user__username", "=user__id", "key")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "key",
        "fingerprint",
        "response_status",
        "response_data",
        "created_at",
    )

"""The stream's admin with its money (`LiveStream` re-registered: the livestreams app does not
know about crowdfunding): its payout, contributions and mini crowd fundings inline, links to
every money record of the stream, and the operator's cancel-and-refund action; and the mini
crowd funding admin, whose new minis are made by `mini_crowd_funding_create`."""

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html

from allmine.admin_mixins import (
    ReadOnlyAdminMixin,
    SaveChangedFieldsMixin,
    ServiceWritesMixin,
    adopt,
)
from crowdfunding.admin.actions import (
    CANCEL_PERMISSION,
    PlannedRefund,
    confirmation_page,
    credits,
    is_confirmed,
    report,
    run_for_each,
)
from crowdfunding.admin.records import payout_ledger_links
from crowdfunding.models import (
    Contribution,
    FundingPayout,
    FundingStatus,
    MiniCrowdFunding,
    MiniCrowdFundingSupport,
)
from crowdfunding.services import (
    live_stream_cancel_by_operator,
    mini_crowd_funding_create,
)
from livestreams.admin import LiveStreamAdmin
from livestreams.models import LiveStream
from livestreams.rules import Action, allows, statuses_for

INLINE_LIMIT = 50


class LatestOnlyFormSet(BaseInlineFormSet):
    """Shows the first `INLINE_LIMIT` rows in the model's ordering (the newest for
    contributions): a stream can have thousands. The full list is one link away."""

    def get_queryset(self):
        queryset = super().get_queryset()
        if not queryset.query.is_sliced:
            queryset = queryset[:INLINE_LIMIT]
            self._queryset = queryset
        return queryset


class ContributionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Contribution
    formset = LatestOnlyFormSet
    verbose_name_plural = f"contributions (latest {INLINE_LIMIT})"
    fields = ("user", "amount", "status", "created_at", "refunded_at")
    readonly_fields = fields
    show_change_link = True
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "stream")


class MiniCrowdFundingInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MiniCrowdFunding
    fields = ("title", "goal", "collected", "percentage", "status", "created_at")
    readonly_fields = fields
    show_change_link = True
    extra = 0

    @admin.display(description="Percentage")
    def percentage(self, obj: MiniCrowdFunding) -> int:
        return obj.percentage


class FundingPayoutInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The stream's funding payout (API.md §9): at most one row, made by the clock."""

    model = FundingPayout
    fields = (
        "paid_at", "total", "creator_share", "guest", "guest_share", "platform_share",
        "revenue_links",
    )  # fmt: skip
    readonly_fields = fields
    show_change_link = True
    extra = 0

    @admin.display(description="Platform share")
    def platform_share(self, obj: FundingPayout) -> int:
        return obj.platform_share

    @admin.display(description="Ledger")
    def revenue_links(self, obj: FundingPayout) -> str:
        return payout_ledger_links(obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("guest", "stream")


admin.site.unregister(LiveStream)


@admin.register(LiveStream)
class CrowdfundedLiveStreamAdmin(LiveStreamAdmin):
    """`LiveStreamAdmin` plus its money: contributions and mini crowd fundings (read-only).

    A stream with contributions is a money record (`PROTECT`), so deleting it is not offered.
    """

    readonly_fields = (*LiveStreamAdmin.readonly_fields, "contributions_link")
    actions = ["cancel_and_refund"]

    def has_cancel_with_refunds_permission(self, request) -> bool:
        return request.user.has_perm(CANCEL_PERMISSION)

    @admin.action(
        description="Cancel selected streams and refund every funder",
        permissions=["cancel_with_refunds"],
    )
    def cancel_and_refund(self, request, queryset):
        if not is_confirmed(request):
            return confirmation_page(
                self,
                request,
                queryset,
                title="Cancel streams and refund every funder",
                verb="Cancel and refund",
                plan=cancel_plan(list(queryset.order_by("planned_start_date", "pk"))),
            )
        receipts, skipped = run_for_each(
            queryset,
            lambda pk: live_stream_cancel_by_operator(stream_id=pk, operator=request.user),
        )
        done = ""
        if receipts:
            # Counted from each cancellation's own receipt: a refund made meanwhile by anyone
            # else is not this action's.
            total = sum(receipt.refunded_credits for receipt in receipts)
            count = sum(r.refunded_contributions + r.refunded_supports for r in receipts)
            funders = len(set().union(*(receipt.refunded_user_ids for receipt in receipts)))
            done = (
                f"Cancelled {len(receipts)} stream(s) and refunded {credits(total)} "
                f"in {count} refund(s) to {funders} funder(s)."
            )
        report(self, request, done, skipped, "stream(s)")
        return None

    def get_inlines(self, request, obj):
        inlines = super().get_inlines(request, obj)
        if obj is None:
            return inlines
        return [*inlines, FundingPayoutInline, ContributionInline, MiniCrowdFundingInline]

    @admin.display(description="Money")
    def contributions_link(self, obj: LiveStream) -> str:
        if obj.pk is None:
            return "-"
        contributions = reverse("admin:crowdfunding_contribution_changelist")
        supports = reverse("admin:crowdfunding_minicrowdfundingsupport_changelist")
        rentals = reverse("admin:livestreams_replayrental_changelist")
        ledger = reverse("admin:users_creditledgerentry_changelist")
        count = obj.contributions.count()
        return format_html(
            '<a href="{}?stream={}">{} contributions</a> · '
            '<a href="{}?mini_crowd_funding__stream={}">supports</a> · '
            '<a href="{}?stream={}">rentals</a> · '
            '<a href="{}?stream_id={}">ledger rows</a>',
            contributions,
            obj.pk,
            count,
            supports,
            obj.pk,
            rentals,
            obj.pk,
            ledger,
            obj.pk,
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.contributions.exists():
            return False
        return super().has_delete_permission(request, obj)


def cancel_plan(streams: list[LiveStream]) -> list[PlannedRefund]:
    """Every refund cancelling `streams` would make (two queries), and the streams that
    cannot be cancelled."""
    ids = [stream.pk for stream in streams if allows(Action.CANCEL, stream.status)]
    by_stream = {stream.pk: [] for stream in streams}
    contributions = Contribution.objects.filter(
        stream_id__in=ids, status=FundingStatus.COMPLETED
    ).select_related("user", "stream")
    supports = MiniCrowdFundingSupport.objects.filter(
        mini_crowd_funding__stream_id__in=ids, status=FundingStatus.COMPLETED
    ).select_related("user", "mini_crowd_funding__stream")
    for record in contributions.order_by("user__username", "pk"):
        by_stream[record.stream_id].append(
            PlannedRefund(
                f"contribution of {record.created_at:%Y-%m-%d %H:%M}",
                record.stream,
                record.user,
                record.amount,
            )
        )
    for record in supports.order_by("user__username", "pk"):
        stream = record.mini_crowd_funding.stream
        what = f"support of “{record.mini_crowd_funding.title}”"
        by_stream[stream.pk].append(PlannedRefund(what, stream, record.user, record.amount))
    lines = []
    for stream in streams:
        if not allows(Action.CANCEL, stream.status):
            reason = f"stream is {stream.get_status_display().lower()}: it cannot be cancelled"
            lines.append(PlannedRefund("stream", stream, None, 0, skipped=reason))
        elif not by_stream[stream.pk]:
            lines.append(PlannedRefund("stream", stream, None, 0, skipped="no funders"))
        lines.extend(by_stream[stream.pk])
    return lines


@admin.register(MiniCrowdFunding)
class MiniCrowdFundingAdmin(ServiceWritesMixin, SaveChangedFieldsMixin, admin.ModelAdmin):
    """A new one is added to a stream that takes funding; afterwards only its title is
    editable: `goal` decides `status`, and `collected` and `status` follow the supports."""

    list_display = ("title", "stream", "goal", "collected", "percentage", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("=id", "title", "stream__title", "=stream__id")
    list_select_related = ("stream",)
    autocomplete_fields = ("stream",)
    readonly_fields = ("id", "collected", "percentage", "status", "created_at", "updated_at")

    @admin.display(description="Percentage")
    def percentage(self, obj: MiniCrowdFunding) -> int:
        return obj.percentage

    def get_readonly_fields(self, request, obj=None):
        if obj is None:  # a new one starts active with nothing collected; its stream is chosen
            return self.readonly_fields
        return (*self.readonly_fields, "stream", "goal")

    def save_model(self, request, obj, form, change):
        """A new one is added through `mini_crowd_funding_create`, as the stream's creator
        would add it (its checks and lock); a change writes only the title."""
        if change:
            return super().save_model(request, obj, form, change)
        mini = mini_crowd_funding_create(
            user=obj.stream.creator, stream_id=obj.stream_id, title=obj.title, goal=obj.goal
        )
        return adopt(obj, mini)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "stream":
            addable = statuses_for(Action.ADD_MINI)
            kwargs["queryset"] = LiveStream.objects.alive().filter(status__in=addable)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.supports.exists():
            return False
        return super().has_delete_permission(request, obj)

"""Admin for contributions, mini crowd fundings and their supports.

Money records are read-only here: amounts, statuses and collected totals change only through
`crowdfunding.services` (the refund action calls `contribution_refund`). This module also
re-registers `LiveStream` with the contributions and mini crowd fundings inlines, since the
livestreams app does not know about crowdfunding.
"""

from dataclasses import dataclass

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from allmine.admin_mixins import (
    DateRangeFilter,
    MoneyTotalsMixin,
    ReadOnlyAdminMixin,
    SaveChangedFieldsMixin,
    ServiceWritesMixin,
    admin_link,
    adopt,
    datetime_column,
    ledger_links,
)
from allmine.api.errors import DomainError
from allmine.ids import is_object_id
from crowdfunding.admin_overview import overview_context
from crowdfunding.models import (
    Contribution,
    FundingPayout,
    FundingStatus,
    IdempotencyRecord,
    MiniCrowdFunding,
    MiniCrowdFundingSupport,
)
from crowdfunding.services import (
    contribution_refund,
    live_stream_cancel_by_operator,
    mini_crowd_funding_create,
)
from livestreams.admin import LiveStreamAdmin
from livestreams.models import LiveStream, ReplayRentalCharge
from livestreams.rules import Action, allows, statuses_for
from users.admin import CreditLedgerEntryAdmin
from users.models import CreditLedgerEntry

INLINE_LIMIT = 50


REFUND_PERMISSION = "crowdfunding.refund_contribution"
CANCEL_PERMISSION = "livestreams.cancel_stream_with_refunds"
PAID_TOTALS = (
    ("Rows", Count("pk")),
    ("Amount", Sum("amount")),
    ("Completed", Sum("amount", filter=Q(status=FundingStatus.COMPLETED))),
    ("Refunded", Sum("amount", filter=Q(status=FundingStatus.REFUNDED))),
)


@dataclass(frozen=True)
class PlannedRefund:
    """One line of a confirmation page: credits that will go back to a user."""

    what: str  # the contribution or support refunded, or the stream skipped
    stream: LiveStream
    user: object  # who gets the credits back (None on a skipped stream's line)
    amount: int
    skipped: str = ""  # why nothing will be refunded for this line


def is_confirmed(request) -> bool:
    """Whether the action's POST comes from the confirmation page's "Yes" button."""
    return request.POST.get("post") == "yes"


def confirmation_page(model_admin, request, queryset, *, title, verb, plan):
    """The page an action that moves money shows first: every refund in `plan` (what, stream,
    user, credits) and the total. Its "Yes" button posts the same action again with
    `post=yes`; nothing runs before that."""
    refunds = [line for line in plan if not line.skipped]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "verb": verb,
        "opts": model_admin.model._meta,
        "action": request.POST.get("action"),
        "selected": queryset.values_list("pk", flat=True),
        "lines": plan,
        "total": sum(line.amount for line in refunds),
        "refund_count": len(refunds),
        "funder_count": len({line.user.pk for line in refunds}),
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/confirm_money_action.html", context)


def run_for_each(queryset, run) -> tuple[list, list[str]]:
    """Call a money service once per selected row, each in its own transaction: what it
    returned for each success, and each skipped row with the service's reason."""
    succeeded, skipped = [], []
    for pk in queryset.values_list("pk", flat=True):
        try:
            succeeded.append(run(pk))
        except DomainError as error:
            skipped.append(f"{pk} ({error.detail or type(error).__name__})")
    return succeeded, skipped


def report(model_admin, request, done: str, skipped: list[str], noun: str) -> None:
    if done:
        model_admin.message_user(request, done, messages.SUCCESS)
    if skipped:
        model_admin.message_user(
            request, f"Skipped {len(skipped)} {noun}: {'; '.join(skipped)}.", messages.WARNING
        )


def credits(amount: int) -> str:
    return f"{amount} credit{'s' if amount != 1 else ''}"


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


def payout_ledger_links(payout: FundingPayout) -> str:
    return (
        ledger_links(
            ("creator's share", payout.creator_revenue_entry_id),
            ("guest's share", payout.guest_revenue_entry_id),
        )
        or "-"
    )


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


# What a ledger row can record: (model, its entry field, the row's caption on the ledger).
RECORDED_BY = (
    (Contribution, "ledger_entry", "contribution"),
    (Contribution, "refund_ledger_entry", "contribution refund"),
    (MiniCrowdFundingSupport, "ledger_entry", "support"),
    (MiniCrowdFundingSupport, "refund_ledger_entry", "support refund"),
    (ReplayRentalCharge, "ledger_entry", "rental charge"),
    (ReplayRentalCharge, "refund_ledger_entry", "rental refund"),
    (ReplayRentalCharge, "creator_revenue_entry", "creator revenue"),
    (ReplayRentalCharge, "guest_revenue_entry", "guest revenue"),
    (FundingPayout, "creator_revenue_entry", "funding payout"),
    (FundingPayout, "guest_revenue_entry", "funding payout"),
)


def attach_records(entries: list[CreditLedgerEntry]) -> list[CreditLedgerEntry]:
    """Set on each ledger row `recorded`: (caption, the contribution, support, rental
    charge or funding payout the row is the debit, refund or revenue payout of), or None; and
    `stream`: the live stream its `stream_id` names, or None. Five queries for any number of
    rows."""
    ids = {entry.pk for entry in entries}
    recorded = {}
    if ids:
        for model in (Contribution, MiniCrowdFundingSupport, ReplayRentalCharge, FundingPayout):
            fields = [(field, caption) for m, field, caption in RECORDED_BY if m is model]
            matches = Q()
            for field, _ in fields:
                matches |= Q(**{f"{field}_id__in": ids})
            for record in model.objects.filter(matches):
                for field, caption in fields:
                    entry_id = getattr(record, f"{field}_id")
                    if entry_id in ids:
                        recorded[entry_id] = (caption, record)
    stream_ids = {entry.stream_id for entry in entries if entry.stream_id}
    streams = LiveStream.objects.only("id", "title").in_bulk(stream_ids) if stream_ids else {}
    for entry in entries:
        entry.recorded = recorded.get(entry.pk)
        entry.stream = streams.get(entry.stream_id)
    return entries


admin.site.unregister(CreditLedgerEntry)


@admin.register(CreditLedgerEntry)
class CrowdfundedLedgerAdmin(CreditLedgerEntryAdmin):
    """`CreditLedgerEntryAdmin` plus what each row records: the contribution, support or
    rental charge it is the debit, refund or revenue payout of, and its stream (`stream_id`,
    searchable by the stream's id or title). `attach_records` finds them for the rows shown."""

    list_display = (*CreditLedgerEntryAdmin.list_display, "record_link")
    readonly_fields = [*CreditLedgerEntryAdmin.readonly_fields, "record_link"]
    search_help_text = "Username, user id, entry id, description, or a stream's exact id or title."

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            changelist.result_list = attach_records(list(changelist.result_list))
        return response

    @admin.display(description="Records")
    def record_link(self, obj: CreditLedgerEntry) -> str:
        if not hasattr(obj, "recorded"):  # the change page: one row
            attach_records([obj])
        links = []
        if obj.recorded is not None:
            caption, record = obj.recorded
            links.append(admin_link(record, caption))
        if obj.stream is not None:
            links.append(admin_link(obj.stream, obj.stream.title))
        elif obj.stream_id:  # a stream that no longer exists
            links.append(obj.stream_id)
        return format_html_join(" · ", "{}", ((link,) for link in links)) if links else "-"

    def get_search_results(self, request, queryset, search_term):
        """Also rows of the streams whose title contains the term (one subquery); the exact
        stream id is a search field of the ledger admin."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term:
            return found, may_have_duplicates
        titled = LiveStream.objects.filter(title__icontains=term).values("id")
        return found | queryset.filter(stream_id__in=titled), may_have_duplicates


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

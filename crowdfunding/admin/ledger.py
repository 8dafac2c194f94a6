"""The credit ledger's admin (`CreditLedgerEntry` re-registered) with what each row records: the
contribution, support, rental charge or payout it is the debit, refund or revenue of, and its
stream, searchable by the stream's exact id or title."""

from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html_join

from allmine.admin_mixins import (
    admin_link,
)
from crowdfunding.models import (
    Contribution,
    FundingPayout,
    MiniCrowdFundingSupport,
)
from livestreams.models import LiveStream, ReplayRentalCharge
from users.admin import CreditLedgerEntryAdmin
from users.models import CreditLedgerEntry

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

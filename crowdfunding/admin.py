"""Admin for contributions, mini crowd fundings and their supports.

Money records are read-only here: amounts, statuses and collected totals change only through
`crowdfunding.services` (the refund action calls `contribution_refund`). This module also
re-registers `LiveStream` with the contributions and mini crowd fundings inlines, since the
livestreams app does not know about crowdfunding.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html

from allmine.admin_mixins import SaveChangedFieldsMixin
from allmine.api.errors import DomainError
from crowdfunding.models import (
    Contribution,
    IdempotencyRecord,
    MiniCrowdFunding,
    MiniCrowdFundingSupport,
)
from crowdfunding.services import (
    FUNDABLE_STATUSES,
    contribution_refund,
    live_stream_cancel_by_operator,
)
from livestreams.admin import LiveStreamAdmin
from livestreams.models import LiveStream

INLINE_LIMIT = 50


def run_for_each(model_admin, request, queryset, service, *, done: str, noun: str) -> None:
    """Call a money service once per selected row, each in its own transaction, and report
    what was done and what was skipped (with the service's reason)."""
    succeeded = 0
    skipped = []
    for pk in queryset.values_list("pk", flat=True):
        try:
            service(pk)
        except DomainError as error:
            skipped.append(f"{pk} ({error.detail or type(error).__name__})")
        else:
            succeeded += 1
    if succeeded:
        model_admin.message_user(request, f"{done} {succeeded} {noun}.", messages.SUCCESS)
    if skipped:
        model_admin.message_user(
            request, f"Skipped {len(skipped)} {noun}: {'; '.join(skipped)}.", messages.WARNING
        )


class ReadOnlyAdminMixin:
    """View only: no add, no change, no delete."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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
        return super().get_queryset(request).select_related("user")


class MiniCrowdFundingInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MiniCrowdFunding
    fields = ("title", "goal", "collected", "percentage", "status", "created_at")
    readonly_fields = fields
    show_change_link = True
    extra = 0

    @admin.display(description="Percentage")
    def percentage(self, obj: MiniCrowdFunding) -> int:
        return obj.percentage


admin.site.unregister(LiveStream)


@admin.register(LiveStream)
class CrowdfundedLiveStreamAdmin(LiveStreamAdmin):
    """`LiveStreamAdmin` plus its money: contributions and mini crowd fundings (read-only).

    A stream with contributions is a money record (`PROTECT`), so deleting it is not offered.
    """

    readonly_fields = (*LiveStreamAdmin.readonly_fields, "contributions_link")
    actions = ["cancel_and_refund"]

    @admin.action(
        description="Cancel selected streams and refund every funder", permissions=["change"]
    )
    def cancel_and_refund(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda pk: live_stream_cancel_by_operator(stream_id=pk),
            done="Cancelled",
            noun="stream(s)",
        )

    def get_inlines(self, request, obj):
        inlines = super().get_inlines(request, obj)
        if obj is None:
            return inlines
        return [*inlines, ContributionInline, MiniCrowdFundingInline]

    @admin.display(description="All contributions")
    def contributions_link(self, obj: LiveStream) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("admin:crowdfunding_contribution_changelist")
        count = obj.contributions.count()
        return format_html('<a href="{}?stream={}">{} contributions</a>', url, obj.pk, count)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.contributions.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Contribution)
class ContributionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Contributions of all streams. Filter one stream by searching its id, or with
    `?stream=<id>` (the link on the stream's page)."""

    list_display = ("id", "user", "stream", "amount", "status", "created_at", "refunded_at")
    list_filter = ("status",)
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

    def has_refund_permission(self, request) -> bool:
        """Refunding moves money: it needs the change permission, not just view."""
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    @admin.action(description="Refund selected contributions", permissions=["refund"])
    def refund_selected(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda pk: contribution_refund(contribution_id=pk),
            done="Refunded",
            noun="contribution(s)",
        )


@admin.register(MiniCrowdFunding)
class MiniCrowdFundingAdmin(SaveChangedFieldsMixin, admin.ModelAdmin):
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

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "stream":
            kwargs["queryset"] = LiveStream.objects.alive().filter(status__in=FUNDABLE_STATUSES)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.supports.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(MiniCrowdFundingSupport)
class MiniCrowdFundingSupportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "user", "mini_crowd_funding", "amount", "status", "created_at")
    list_filter = ("status",)
    search_fields = (
        "=id",
        "user__username",
        "mini_crowd_funding__title",
        "mini_crowd_funding__stream__title",
        "=mini_crowd_funding__id",
    )
    list_select_related = ("user", "mini_crowd_funding")
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

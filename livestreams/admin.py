"""Admin for live streams, their guests and broadcasters, and replay rentals.

`collected_funding` moves only with contributions and refunds (crowdfunding services), and
`channel_name` is made once from the title, so both are read-only; so are an existing stream's
status, deletion and creator. The crowdfunding app
extends `LiveStreamAdmin` with its contribution and mini crowd funding inlines.
"""

from django.contrib import admin
from django.db import models

from allmine.admin_mixins import SaveChangedFieldsMixin
from livestreams.models import (
    Broadcaster,
    LiveStream,
    ReplayRental,
    ReplayRentalCharge,
    StreamGuest,
)
from livestreams.services import unique_channel_name


class StreamGuestInline(admin.TabularInline):
    model = StreamGuest
    extra = 0
    raw_id_fields = ("user",)
    readonly_fields = ("invited_at",)


class BroadcasterInline(admin.TabularInline):
    model = Broadcaster
    extra = 0
    raw_id_fields = ("user",)
    readonly_fields = ("created_at",)


@admin.register(LiveStream)
class LiveStreamAdmin(SaveChangedFieldsMixin, admin.ModelAdmin):
    list_display = (
        "title",
        "creator",
        "status",
        "live_stream_type",
        "planned_start_date",
        "funding_goal",
        "collected_funding",
        "funding_percentage",
    )
    list_filter = (
        "status",
        "live_stream_type",
        "interest",
        ("deleted_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("=id", "title", "channel_name", "creator__username")
    list_select_related = ("creator",)
    autocomplete_fields = ("creator",)
    readonly_fields = (
        "id",
        "channel_name",
        "collected_funding",
        "funding_percentage",
        "created_at",
        "updated_at",
    )
    inlines = [StreamGuestInline, BroadcasterInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="Funding %")
    def funding_percentage(self, obj: LiveStream) -> int:
        return obj.funding_percentage

    def get_readonly_fields(self, request, obj=None):
        """Status, deletion and owner of an existing stream move only through the services
        (cancelling refunds every funder; see the crowdfunding admin's action)."""
        if obj is None:
            return self.readonly_fields
        return (*self.readonly_fields, "status", "deleted_at", "creator")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.channel_name = unique_channel_name(obj.title)
        super().save_model(request, obj, form, change)


@admin.register(StreamGuest)
class StreamGuestAdmin(admin.ModelAdmin):
    list_display = ("stream", "user", "invited_at")
    list_filter = ("invited_at",)
    search_fields = ("stream__title", "=stream__id", "user__username")
    list_select_related = ("stream", "user")
    autocomplete_fields = ("stream", "user")


@admin.register(Broadcaster)
class BroadcasterAdmin(admin.ModelAdmin):
    list_display = ("stream", "user", "role", "uid", "has_joined", "created_at")
    list_filter = ("role", "has_joined")
    search_fields = ("stream__title", "=stream__id", "user__username")
    list_select_related = ("stream", "user")
    autocomplete_fields = ("stream", "user")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money records to read, not to write by hand: rentals move credits only through
    `livestreams.services` (rent, refund on deletion, `settle_replay_revenue`)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReplayRentalChargeInline(admin.TabularInline):
    model = ReplayRentalCharge
    extra = 0
    can_delete = False
    fields = (
        "id", "price", "status", "rented_at", "expires_at", "ledger_entry", "refunded_at",
        "settled_at", "creator_share", "guest", "guest_share",
    )  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReplayRental)
class ReplayRentalAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "stream", "price", "status", "rented_at", "expires_at")
    list_filter = ("status", "rented_at")
    search_fields = ("=id", "user__username", "stream__title", "=stream__id")
    list_select_related = ("user", "stream")
    readonly_fields = ("id", "user", "stream", "price", "status", "rented_at", "expires_at")
    inlines = [ReplayRentalChargeInline]


@admin.register(ReplayRentalCharge)
class ReplayRentalChargeAdmin(ReadOnlyAdmin):
    """One paid 24-hour window: its debit, and its refund or its revenue split."""

    list_display = (
        "id", "rental", "price", "status", "expires_at", "settled_at", "creator_share",
        "guest_share",
    )  # fmt: skip
    list_filter = ("status", "settled_at")
    search_fields = ("=id", "=rental__id", "rental__user__username", "=rental__stream__id")
    list_select_related = ("rental__user", "rental__stream")
    readonly_fields = [field.name for field in ReplayRentalCharge._meta.fields]

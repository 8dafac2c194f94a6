"""Admin for live streams, their guests and broadcasters, and replay rentals.

`collected_funding` moves only with contributions and refunds (crowdfunding services), and
`channel_name` is made once from the title, so both are read-only; so are an existing stream's
status, deletion and creator. The crowdfunding app
extends `LiveStreamAdmin` with its contribution and mini crowd funding inlines.
"""

from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.db import models
from django.db.models import Count, Sum
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.text import Truncator

from allmine.admin_mixins import (
    DateRangeFilter,
    MoneyTotalsMixin,
    ReadOnlyAdminMixin,
    SaveChangedFieldsMixin,
    admin_link,
    datetime_column,
)
from livestreams.models import (
    Broadcaster,
    LiveStream,
    ReplayRental,
    ReplayRentalCharge,
    StreamGuest,
)
from livestreams.services import unique_channel_name


class LoadedUserFormSet(BaseInlineFormSet):
    """Each existing row's raw-id `user` box is captioned from the row's user, loaded with
    the rows (`select_related`), instead of one query per row."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        if form.instance.pk is not None:
            form.fields["user"].widget.loaded = form.instance.user
        return form


class LoadedRawIdWidget(ForeignKeyRawIdWidget):
    loaded = None  # the selected object, when the form already holds it

    def label_and_url_for_value(self, value):
        if self.loaded is None or str(self.loaded.pk) != str(value):
            return super().label_and_url_for_value(value)
        opts = self.loaded._meta
        url = reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
            args=[self.loaded.pk],
        )
        return Truncator(self.loaded).words(14), url


class UserInline(admin.TabularInline):
    """A stream's people (guests, broadcasters): the user by raw id, captioned by name."""

    formset = LoadedUserFormSet
    extra = 0
    raw_id_fields = ("user",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["widget"] = LoadedRawIdWidget(db_field.remote_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "stream")


class StreamGuestInline(UserInline):
    model = StreamGuest
    readonly_fields = ("invited_at",)


class BroadcasterInline(UserInline):
    model = Broadcaster
    readonly_fields = ("created_at",)


@admin.register(LiveStream)
class LiveStreamAdmin(SaveChangedFieldsMixin, admin.ModelAdmin):
    list_display = (
        "title",
        "creator",
        "status",
        "starts",
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

    starts = datetime_column("planned_start_date", "Starts")

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


class ReplayRentalChargeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReplayRentalCharge
    extra = 0
    fields = (
        "id", "price", "status", "rented_at", "expires_at", "ledger_entry", "refunded_at",
        "settled_at", "creator_share", "guest", "guest_share",
    )  # fmt: skip
    readonly_fields = fields


@admin.register(ReplayRental)
class ReplayRentalAdmin(MoneyTotalsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Rentals move credits only through `livestreams.services` (rent, refund on deletion,
    `settle_replay_revenue`): records to read, not to write by hand. Each paid 24-hour window
    is a charge, listed on the rental's page."""

    list_display = ("rented", "user", "stream_link", "price", "status", "expires")
    list_display_links = ("rented",)
    list_filter = ("status", ("rented_at", DateRangeFilter), ("expires_at", DateRangeFilter))
    date_hierarchy = "rented_at"
    search_fields = ("=id", "user__username", "stream__title", "=stream__id")
    list_select_related = ("user", "stream")
    readonly_fields = ("id", "user", "stream", "price", "status", "rented_at", "expires_at")
    inlines = [ReplayRentalChargeInline]
    money_totals = (("Rentals", Count("pk")), ("Credits", Sum("price")))
    rented = datetime_column("rented_at", "Rented")
    expires = datetime_column("expires_at", "Expires")

    @admin.display(description="Stream", ordering="stream__title")
    def stream_link(self, obj: ReplayRental) -> str:
        return admin_link(obj.stream)


@admin.register(ReplayRentalCharge)
class ReplayRentalChargeAdmin(MoneyTotalsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """One paid 24-hour window: its debit, and its refund or its revenue split."""

    list_display = (
        "rented", "rental_link", "price", "status", "expires", "creator_share", "guest_share",
    )  # fmt: skip
    list_display_links = ("rented",)
    list_filter = ("status", ("rented_at", DateRangeFilter), ("settled_at", DateRangeFilter))
    date_hierarchy = "rented_at"
    search_fields = ("=id", "=rental__id", "rental__user__username", "=rental__stream__id")
    list_select_related = ("rental__user", "rental__stream")
    readonly_fields = [field.name for field in ReplayRentalCharge._meta.fields]
    money_totals = (
        ("Charges", Count("pk")),
        ("Credits", Sum("price")),
        ("Paid to creators", Sum("creator_share")),
        ("Paid to guests", Sum("guest_share")),
    )
    rented = datetime_column("rented_at", "Rented")
    expires = datetime_column("expires_at", "Window ends")

    @admin.display(description="Rental", ordering="rented_at")
    def rental_link(self, obj: ReplayRentalCharge) -> str:
        return admin_link(obj.rental)

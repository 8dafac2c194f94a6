"""Admin for live streams, their guests and broadcasters, and replay rentals.

`collected_funding` moves only with contributions and refunds (crowdfunding services), and
`channel_name` is made once from the title, so both are read-only; so are an existing stream's
status, deletion and creator. The crowdfunding app
extends `LiveStreamAdmin` with its contribution and mini crowd funding inlines.
"""

from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.db import models
from django.db.models import Count, F, Sum
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from allmine.admin_mixins import (
    DateRangeFilter,
    ManagedCatalogueMixin,
    MoneyTotalsMixin,
    ReadOnlyAdminMixin,
    SaveChangedFieldsMixin,
    ServiceWritesMixin,
    admin_link,
    adopt,
    datetime_column,
    ledger_links,
)
from allmine.ids import is_object_id
from livestreams.models import (
    Broadcaster,
    Gift,
    GiftType,
    LiveStream,
    Reminder,
    ReplayRental,
    ReplayRentalCharge,
    StreamGuest,
)
from livestreams.services import (
    EDITABLE_FIELDS,
    live_stream_create,
    live_stream_update,
    replay_settings_update,
)


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
    """Guests are invited when the stream is created (`live_stream_create` checks them); an
    existing stream's guests are shown, not edited."""

    model = StreamGuest
    readonly_fields = ("invited_at",)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_delete_permission(request, obj)


class BroadcasterInline(ReadOnlyAdminMixin, UserInline):
    """Broadcasters are written by start and join."""

    model = Broadcaster
    readonly_fields = ("created_at",)


class CancelledByFilter(admin.SimpleListFilter):
    """Cancelled streams by who cancelled them: the creator, or an operator in the admin."""

    title = "cancelled by"
    parameter_name = "cancelled_by"

    def lookups(self, request, model_admin):
        return [("creator", "Its creator"), ("operator", "An operator")]

    def queryset(self, request, queryset):
        if self.value() == "creator":
            return queryset.filter(cancelled_by=F("creator"))
        if self.value() == "operator":
            return queryset.filter(cancelled_by__isnull=False).exclude(cancelled_by=F("creator"))
        return queryset


REPLAY_FIELDS = frozenset({"is_active_replay_on_creator_profile", "replay_credit_price"})


@admin.register(LiveStream)
class LiveStreamAdmin(ServiceWritesMixin, admin.ModelAdmin):
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
        CancelledByFilter,
    )
    search_fields = ("=id", "title", "channel_name", "creator__username")
    list_select_related = ("creator",)
    autocomplete_fields = ("creator",)
    readonly_fields = (
        "id",
        "channel_name",
        "collected_funding",
        "funding_percentage",
        "cancelled_by",
        "cancelled_as",
        "cancelled_at",
        "created_at",
        "updated_at",
    )
    inlines = [StreamGuestInline, BroadcasterInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    starts = datetime_column("planned_start_date", "Starts")

    @admin.display(description="Funding %")
    def funding_percentage(self, obj: LiveStream) -> int:
        return obj.funding_percentage

    @admin.display(description="Cancelled as")
    def cancelled_as(self, obj: LiveStream) -> str:
        """Whether `cancelled_by` is the stream's creator (the API) or an operator (the
        admin): the status says `cancelled_by_host` either way."""
        if obj.cancelled_by_id is None:
            return "-"
        return "creator" if obj.cancelled_by_id == obj.creator_id else "operator"

    def get_readonly_fields(self, request, obj=None):
        """A new stream starts `scheduled` (its status is never picked). An existing stream's
        creator may change only what the creator may change through the API
        (`livestreams.services.EDITABLE_FIELDS`) and its replay settings; status, deletion,
        owner, type, price and guests move only through their services."""
        if obj is None:
            return (*self.readonly_fields, "status", "deleted_at")
        editable = EDITABLE_FIELDS | REPLAY_FIELDS
        fixed = [f.name for f in obj._meta.concrete_fields if f.name not in editable]
        return tuple(dict.fromkeys([*self.readonly_fields, *fixed]))

    def get_inlines(self, request, obj):
        inlines = super().get_inlines(request, obj)
        return [StreamGuestInline] if obj is None else inlines

    def save_model(self, request, obj, form, change):
        """A change goes through `live_stream_update` and `replay_settings_update`, as the
        stream's creator would make it; a new stream is created in `save_related`, once its
        guests are known."""
        if not change:
            return
        changed = set(form.changed_data)
        if edits := {name: getattr(obj, name) for name in changed & EDITABLE_FIELDS}:
            live_stream_update(user=obj.creator, stream_id=obj.pk, **edits)
        if replay := {name: getattr(obj, name) for name in changed & REPLAY_FIELDS}:
            replay_settings_update(user=obj.creator, stream_id=obj.pk, **replay)

    def save_related(self, request, form, formsets, change):
        if change:
            return super().save_related(request, form, formsets, change)
        guest_ids = [
            guest.cleaned_data["user"].pk
            for formset in formsets
            if formset.model is StreamGuest
            for guest in formset.forms
            if guest.cleaned_data and not guest.cleaned_data.get("DELETE")
        ]
        for formset in formsets:  # written by the service: nothing for the formsets to save
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        obj = form.instance
        adopt(
            obj,
            live_stream_create(
                creator=obj.creator,
                title=obj.title,
                interest=obj.interest,
                planned_start_date=obj.planned_start_date,
                duration_goal=obj.duration_goal,
                live_stream_type=obj.live_stream_type,
                funding_goal=obj.funding_goal,
                price=obj.price,
                motivation=obj.motivation,
                planned_end_date=obj.planned_end_date,
                guest_ids=guest_ids,
                thumbnail_url=obj.thumbnail_url,
                recording=obj.recording,
                is_active_replay_on_creator_profile=obj.is_active_replay_on_creator_profile,
                replay_credit_price=obj.replay_credit_price,
            ),
        )


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


def charge_ledger_links(charge: ReplayRentalCharge) -> str:
    """Links to every ledger row of a rental charge: its debit, then its refund or the
    revenue paid out of it."""
    return ledger_links(
        ("debit", charge.ledger_entry_id),
        ("refund", charge.refund_ledger_entry_id),
        ("creator revenue", charge.creator_revenue_entry_id),
        ("guest revenue", charge.guest_revenue_entry_id),
    )


class ReplayRentalChargeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReplayRentalCharge
    extra = 0
    fields = (
        "id", "price", "status", "rented_at", "expires_at", "refunded_at", "settled_at",
        "creator_share", "guest", "guest_share", "ledger",
    )  # fmt: skip
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        # Each row is captioned by its charge (renter, stream title): loaded with the rows.
        return (
            super().get_queryset(request).select_related("guest", "rental__user", "rental__stream")
        )

    @admin.display(description="Ledger")
    def ledger(self, obj: ReplayRentalCharge) -> str:
        return charge_ledger_links(obj)


@admin.register(ReplayRental)
class ReplayRentalAdmin(MoneyTotalsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Rentals move credits only through `livestreams.services` (rent, refund on deletion,
    `settle_replay_revenue`): records to read, not to write by hand. Each paid 24-hour window
    is a charge, listed on the rental's page with links to its ledger rows."""

    list_display = ("rented", "user", "stream_link", "price", "status", "expires", "ledger")
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

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("charges")

    @admin.display(description="Stream", ordering="stream__title")
    def stream_link(self, obj: ReplayRental) -> str:
        return admin_link(obj.stream)

    @admin.display(description="Ledger (current window)")
    def ledger(self, obj: ReplayRental) -> str:
        """The current window's ledger rows, and every window's charge one click away."""
        charges = obj.charges.all()  # prefetched, newest first
        if not charges:
            return "-"
        url = reverse("admin:livestreams_replayrentalcharge_changelist")
        count = len(charges)
        return format_html(
            '{} · <a href="{}?rental={}">{} charge{}</a>',
            charge_ledger_links(charges[0]),
            url,
            obj.pk,
            count,
            "" if count == 1 else "s",
        )


@admin.register(ReplayRentalCharge)
class ReplayRentalChargeAdmin(MoneyTotalsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """One paid 24-hour window: its debit, and its refund or its revenue split, each linked
    to its ledger row."""

    list_display = (
        "rented", "rental_link", "price", "status", "expires", "creator_share", "guest_share",
        "ledger",
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

    def get_object(self, request, object_id, from_field=None):
        """The change page captions the rental and each ledger row (user, amount): loaded
        with the charge."""
        queryset = self.get_queryset(request).select_related(
            "rental__user",
            "rental__stream",
            "guest",
            "ledger_entry__user",
            "refund_ledger_entry__user",
            "creator_revenue_entry__user",
            "guest_revenue_entry__user",
        )
        return queryset.filter(pk=object_id).first() if is_object_id(object_id) else None

    @admin.display(description="Rental", ordering="rented_at")
    def rental_link(self, obj: ReplayRentalCharge) -> str:
        return admin_link(obj.rental)

    @admin.display(description="Ledger")
    def ledger(self, obj: ReplayRentalCharge) -> str:
        return charge_ledger_links(obj)


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Reminders change only through the API and the sweep (exactly once)."""

    list_display = ["user", "stream", "minute", "status", "sent_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["user__username", "stream__id", "stream__title"]
    list_select_related = ["user", "stream"]


@admin.register(GiftType)
class GiftTypeAdmin(ManagedCatalogueMixin, SaveChangedFieldsMixin, admin.ModelAdmin):
    """Gifts on offer during live streams. Retire one with `is_active` (a type that was ever
    sent cannot be deleted: its gifts point to it)."""

    manage_permission = "livestreams.manage_gift_types"
    list_display = ("name", "credit_amount", "is_active", "icon_url")
    list_filter = ("is_active",)
    search_fields = ("=id", "name")
    list_select_related = ()
    readonly_fields = ("id", "created_at", "updated_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Gift)
class GiftAdmin(MoneyTotalsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Gifts sent: the price, and the shares paid to the creator and the guest (the platform
    keeps the rest)."""

    list_display = (
        "created", "gift_type", "stream", "sender", "amount", "creator_share", "guest_share",
    )  # fmt: skip
    list_display_links = ("created",)
    list_filter = ("gift_type", ("created_at", DateRangeFilter))
    search_fields = ("=id", "=stream__id", "stream__title", "sender__username")
    list_select_related = ("gift_type", "stream", "sender")
    list_per_page = 50
    money_totals = (
        ("Gifts", Count("pk")),
        ("Credits spent", Sum("amount")),
        ("Paid to creators", Sum("creator_share")),
        ("Paid to guests", Sum("guest_share")),
    )
    readonly_fields = [
        "id", "gift_type", "stream", "sender", "amount", "spend_entry", "creator_share",
        "creator_revenue_entry", "guest", "guest_share", "guest_revenue_entry", "created_at",
    ]  # fmt: skip

    created = datetime_column("created_at", "Created")

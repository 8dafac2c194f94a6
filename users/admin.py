"""Admin for identity and the credit wallet. Balances and the ledger are read-only here:
credits move only through `users.services.ledger_post` and the services that call it."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.html import format_html

from allmine.admin_mixins import (
    DateRangeFilter,
    ManagedCatalogueMixin,
    MoneyTotalsMixin,
    ReadOnlyAdminMixin,
    SaveChangedFieldsMixin,
    datetime_column,
)
from allmine.ids import is_object_id
from users.models import CreditLedgerEntry, CreditPackage, CreditTransfer, Media, StoreEvent, User


@admin.register(Media)
class MediaAdmin(admin.ModelAdmin):
    list_display = ("id", "url", "type", "created_at")
    list_filter = ("type",)
    search_fields = ("=id", "url")
    list_select_related = ()  # no relations shown
    readonly_fields = ("id", "created_at", "updated_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(User)
class UserAdmin(SaveChangedFieldsMixin, BaseUserAdmin):
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "account_status",
        "availability_status",
        "credit_balance",
        "is_staff",
    )
    list_filter = ("account_status", "availability_status", *BaseUserAdmin.list_filter)
    search_fields = ("=id", "username", "email", "first_name", "last_name")
    list_select_related = ()  # no relations shown
    raw_id_fields = ("profile_photo",)
    readonly_fields = ("id", "credit_balance", "ledger_entries_link", "token_version", "updated_at")
    fieldsets = (
        (None, {"fields": ("id", "username", "password")}),
        *BaseUserAdmin.fieldsets[1:],
        (
            "Allmine",
            {
                "fields": (
                    "profile_photo",
                    "availability_status",
                    "account_status",
                    "credit_balance",
                    "ledger_entries_link",
                    "token_version",
                    "updated_at",
                )
            },
        ),
    )

    @admin.display(description="Credit ledger")
    def ledger_entries_link(self, obj: User) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("admin:users_creditledgerentry_changelist")
        count = obj.ledger_entries.count()
        return format_html('<a href="{}?user={}">{} ledger entries</a>', url, obj.pk, count)


class DirectionFilter(admin.SimpleListFilter):
    """Credits (money into the wallet) or debits (money out of it)."""

    title = "direction"
    parameter_name = "direction"

    def lookups(self, request, model_admin):
        return [("credit", "Credit (in)"), ("debit", "Debit (out)")]

    def queryset(self, request, queryset):
        if self.value() == "credit":
            return queryset.filter(amount__gt=0)
        if self.value() == "debit":
            return queryset.filter(amount__lt=0)
        return queryset


@admin.register(CreditLedgerEntry)
class CreditLedgerEntryAdmin(MoneyTotalsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The ledger is the truth about credits: operators read it, nobody edits it.

    The crowdfunding app extends it with the stream and the contribution, support or rental
    charge a row records (this app does not know about them)."""

    list_display = (
        "created",
        "user",
        "kind",
        "signed_amount",
        "balance",
        "description",
    )
    list_display_links = ("created",)
    list_filter = (
        DirectionFilter,
        "type",
        "status",
        ("created_at", DateRangeFilter),
    )
    date_hierarchy = "created_at"
    search_fields = ("user__username", "=user__id", "=id", "description", "=stream_id")
    list_select_related = ("user",)
    list_per_page = 50
    show_full_result_count = False  # no second COUNT(*) of the whole ledger on each page
    money_totals = (
        ("Rows", Count("pk")),
        ("Credits in", Sum("amount", filter=Q(amount__gt=0))),
        ("Credit rows", Count("pk", filter=Q(amount__gt=0))),
        ("Debits out", Sum("amount", filter=Q(amount__lt=0))),
        ("Debit rows", Count("pk", filter=Q(amount__lt=0))),
        ("Net", Sum("amount")),
    )
    readonly_fields = [
        "id",
        "user",
        "type",
        "status",
        "amount",
        "balance_after",
        "description",
        "stream_id",
        "created_at",
    ]

    created = datetime_column("created_at", "Created")

    def get_search_results(self, request, queryset, search_term):
        """An ObjectId searches the id columns only — the entry, its user, its stream —
        through their indexes, instead of also scanning every description for the text."""
        term = search_term.strip()
        if is_object_id(term):
            return queryset.filter(Q(pk=term) | Q(user_id=term) | Q(stream_id=term)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Type", ordering="type")
    def kind(self, obj: CreditLedgerEntry) -> str:
        """The type, and the status when it is not the usual "completed" (one column)."""
        if obj.status == CreditLedgerEntry.Status.COMPLETED:
            return obj.get_type_display()
        return f"{obj.get_type_display()} ({obj.get_status_display().lower()})"

    @admin.display(description="Balance", ordering="balance_after")
    def balance(self, obj: CreditLedgerEntry) -> int:
        return obj.balance_after

    @admin.display(description="Amount", ordering="amount")
    def signed_amount(self, obj: CreditLedgerEntry) -> str:
        return f"{obj.amount:+d}"


@admin.register(CreditPackage)
class CreditPackageAdmin(ManagedCatalogueMixin, SaveChangedFieldsMixin, admin.ModelAdmin):
    """Packages on sale in the stores. Retire one with `is_active` (a package that was ever
    bought cannot be deleted: its store events point to it)."""

    manage_permission = "users.manage_credit_packages"
    list_display = (
        "credit_amount", "store_type", "revenuecat_product_id", "store_identifier", "is_active",
    )  # fmt: skip
    list_filter = ("store_type", "is_active")
    search_fields = ("=id", "revenuecat_product_id", "store_identifier")
    list_select_related = ()
    readonly_fields = ("id", "created_at", "updated_at")


@admin.register(StoreEvent)
class StoreEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every event the store sent, with what it did. Outcome `refund_short` is a
    negative-balance case: the store refunded a purchase whose credits were already spent."""

    list_display = (
        "received", "event_type", "outcome", "user", "product_id", "credits", "detail",
    )  # fmt: skip
    list_display_links = ("received",)
    list_filter = ("outcome", "event_type", ("received_at", DateRangeFilter))
    search_fields = ("=event_id", "=app_user_id", "=transaction_id", "product_id", "user__username")
    list_select_related = ("user",)
    list_per_page = 50
    readonly_fields = [
        "id", "event_id", "event_type", "outcome", "detail", "credits", "user", "package",
        "app_user_id", "product_id", "transaction_id", "ledger_entry", "refund_of", "payload",
        "received_at",
    ]  # fmt: skip

    received = datetime_column("received_at", "Received")


@admin.register(CreditTransfer)
class CreditTransferAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created", "sender", "recipient", "amount")
    list_display_links = ("created",)
    list_filter = (("created_at", DateRangeFilter),)
    search_fields = ("=id", "sender__username", "recipient__username", "=sender__id")
    list_select_related = ("sender", "recipient")
    list_per_page = 50
    readonly_fields = [
        "id", "sender", "recipient", "amount", "sent_entry", "received_entry", "created_at",
    ]  # fmt: skip

    created = datetime_column("created_at", "Created")

"""Shared admin behaviour."""

from datetime import date, datetime, time, timedelta

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from allmine.api.errors import DomainError
from allmine.fields import UpdatedAtField


class ServiceWritesMixin:
    """Admin saves call the services (HackSoft: `save_model` calls the service), so an
    operator's write keeps the same rules, checks and locks as the API. A service's refusal
    rolls the whole save back and is shown on the same page as an error."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            self.message_user(
                request, f"Not saved: {error.detail or type(error).__name__}", messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())


def adopt(obj, written) -> None:
    """Make the admin's unsaved `obj` the row a service has just written (`written`), so the
    admin's log entry and redirect name it."""
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(written, field.attname))
    obj._state.adding = False
    obj._state.db = written._state.db


class ReadOnlyAdminMixin:
    """View only: no add, no change, no delete (money records move only through services)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ManagedCatalogueMixin:
    """A catalogue operators edit (credit packages, gift types): adding, changing and deleting
    need the model's own named permission (`manage_permission`), not just the default ones."""

    manage_permission = ""

    def _may_manage(self, request) -> bool:
        return request.user.has_perm(self.manage_permission)

    def has_add_permission(self, request) -> bool:
        return self._may_manage(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may_manage(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may_manage(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._may_manage(request) or super().has_view_permission(request, obj)


class SaveChangedFieldsMixin:
    """On change, write only the columns the form changed (and the `updated_at` stamps).

    `Model.save()` writes every column, read-only ones included, from the row as it was loaded:
    a fund, refund or logout committed meanwhile would be overwritten with stale values.
    """

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        columns = {field.name: field for field in obj._meta.concrete_fields}
        changed = [name for name in form.changed_data if name in columns]
        if changed:
            stamps = [
                name
                for name, field in columns.items()
                if isinstance(field, UpdatedAtField) or getattr(field, "auto_now", False)
            ]
            obj.save(update_fields=[*changed, *stamps])


class MoneyTotalsMixin:
    """Totals above a money list for exactly the rows its filters, date drill-down and search
    select (all pages, not just the one shown), in one aggregate query.

    `money_totals` lists (label, aggregate expression over the listed model).
    """

    change_list_template = "admin/money_change_list.html"
    money_totals: tuple = ()

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        changelist = context.get("cl")
        if changelist is not None:
            expressions = {f"total_{i}": total for i, (_, total) in enumerate(self.money_totals)}
            values = changelist.queryset.order_by().aggregate(**expressions)
            context["money_totals"] = [
                (label, values[f"total_{i}"] or 0) for i, (label, _) in enumerate(self.money_totals)
            ]
        return response


def start_of_day(day: date) -> datetime:
    """Midnight at the start of `day` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


class DateRangeFilter(admin.FieldListFilter):
    """Two date inputs, "from" and "to" (both inclusive, in the site's time zone)."""

    template = "admin/date_range_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.lookup_since = f"{field_path}__date__gte"
        self.lookup_until = f"{field_path}__date__lte"
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = f"{self.title} (range)"
        self.dates = {}
        for name, values in self.used_parameters.items():
            value = values[-1] if isinstance(values, list) else values
            try:
                self.dates[name] = date.fromisoformat(value)
            except ValueError as error:
                raise IncorrectLookupParameters(f"{name}: not a date (YYYY-MM-DD)") from error

    def expected_parameters(self):
        return [self.lookup_since, self.lookup_until]

    def queryset(self, request, queryset):
        """Bounds on the column itself (midnights in the site's time zone), so an index on
        it serves the filter."""
        bounds = {}
        if self.lookup_since in self.dates:
            bounds[f"{self.field_path}__gte"] = start_of_day(self.dates[self.lookup_since])
        if self.lookup_until in self.dates:
            next_day = self.dates[self.lookup_until] + timedelta(days=1)
            bounds[f"{self.field_path}__lt"] = start_of_day(next_day)
        return queryset.filter(**bounds)

    def get_facet_counts(self, pk_attname, filtered_qs):
        return {}

    def choices(self, changelist):
        mine = set(self.expected_parameters())
        yield {
            "since_name": self.lookup_since,
            "until_name": self.lookup_until,
            "since": self.dates.get(self.lookup_since, ""),
            "until": self.dates.get(self.lookup_until, ""),
            "hidden": [
                (name, value)
                for name, values in changelist.filter_params.items()
                if name not in mine
                for value in values
            ],
            "reset_query_string": changelist.get_query_string(remove=list(mine)),
            "selected": bool(self.dates),
        }


def admin_link(obj, text=None) -> str:
    """A link to `obj`'s change page in the admin, captioned `text` (or `str(obj)`)."""
    if obj is None:
        return "-"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else obj)


def datetime_column(field: str, description: str):
    """A sortable changelist column showing `field` as "2026-11-29 20:46" (local time): half
    the width of the default "Nov. 29, 2026, 8:46 p.m.", so money columns fit at 1366 px."""

    @admin.display(description=description, ordering=field)
    def column(self, obj) -> str:
        value = getattr(obj, field)
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"

    return column


def ledger_links(*rows: tuple[str, str | None]) -> str:
    """Links to ledger rows' change pages, " · " apart: one per (caption, entry id) whose id
    is set (e.g. ("debit", record.ledger_entry_id), ("refund", record.refund_ledger_entry_id))."""
    return format_html_join(
        " · ",
        '<a href="{}">{}</a>',
        (
            (reverse("admin:users_creditledgerentry_change", args=[pk]), caption)
            for caption, pk in rows
            if pk
        ),
    )

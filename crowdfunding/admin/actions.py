"""What the money actions share: the permission each needs, the confirmation page listing every
refund before anything runs (`PlannedRefund` lines), one service call per selected row, and the
report of what was done and what was skipped."""

from dataclasses import dataclass

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from allmine.api.errors import DomainError
from livestreams.models import LiveStream

REFUND_PERMISSION = "crowdfunding.refund_contribution"
CANCEL_PERMISSION = "livestreams.cancel_stream_with_refunds"


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

"""`/admin/login/` with the sign-in rate limits of `POST /api/v1/auth/login`.

Each POST counts in the same buckets as the API's sign-in (per address and per account name,
`allmine/api/throttling.py`), before the password is checked: past the limit the admin's own
login page answers 429 with the error "Too many sign-in attempts" and `Retry-After`, even for
the right password, until the window passes. With the cache down it fails closed: 503 with
"Sign-in is temporarily unavailable".
"""

import math

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from rest_framework.throttling import BaseThrottle

from allmine.api.middleware import RETRY_AFTER_SECONDS
from allmine.api.throttling import CacheUnavailable, sign_in_hits

REFUSAL_ATTRIBUTE = "_sign_in_refusal"


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    def clean(self):
        address = BaseThrottle().get_ident(self.request)
        try:
            hits = sign_in_hits(address=address, username=self.data.get("username"))
        except CacheUnavailable:
            setattr(self.request, REFUSAL_ATTRIBUTE, (503, RETRY_AFTER_SECONDS))
            raise ValidationError(
                "Sign-in is temporarily unavailable. Try again in a few seconds.",
                code="unavailable",
            ) from None
        refused = [hit for hit in hits if not hit.allowed]
        if refused:
            wait = max(1, math.ceil(max(hit.wait() for hit in refused)))
            setattr(self.request, REFUSAL_ATTRIBUTE, (429, wait))
            raise ValidationError(
                f"Too many sign-in attempts. Try again in {wait} seconds.", code="throttled"
            )
        return super().clean()


def admin_login(request, extra_context=None):
    """The admin site's login view; a refused attempt gets its status and `Retry-After`."""
    response = admin.site.login(request, extra_context)
    refusal = getattr(request, REFUSAL_ATTRIBUTE, None)
    if refusal is not None:
        response.status_code, wait = refusal
        response["Retry-After"] = str(wait)
    return response

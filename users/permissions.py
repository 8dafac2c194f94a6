from rest_framework.permissions import BasePermission

from users.rules import SUSPENDED


class IsNotSuspended(BasePermission):
    """Signed-in users whose account is suspended may do nothing (403)."""

    message = SUSPENDED

    def has_permission(self, request, view):
        user = request.user
        return user is None or not getattr(user, "is_suspended", False)

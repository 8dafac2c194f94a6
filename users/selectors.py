"""Reads of the users app."""

from users.models import User


def user_by_identifier(*, identifier: str) -> User | None:
    """The account a username or e-mail address names: the username first; an e-mail address
    names an account only when exactly one account has it (case-insensitively)."""
    user = User.objects.filter(username=identifier).first()
    if user is not None or "@" not in identifier:
        return user
    matches = list(User.objects.filter(email__iexact=identifier)[:2])
    return matches[0] if len(matches) == 1 else None

"""Moments of a user's life that the services act on, sent inside the transaction that made
them: `password_changed(user)` — `User.save` saved a new password; `users.services` revokes
every token of the user (`tokens_revoke_on_password_change`, connected in `UsersConfig.ready`).
The model announces, the services write: `users.models` never imports `users.services`."""

from django.dispatch import Signal

password_changed = Signal()

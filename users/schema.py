"""OpenAPI description of the Bearer JWT scheme (loaded by UsersConfig.ready)."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.drainage import set_override

from users.authentication import EventStreamAuthentication


class BearerJWTScheme(SimpleJWTScheme):
    target_class = "users.authentication.BearerJWTAuthentication"
    name = "jwtAuth"
    match_subclasses = True  # EventStreamAuthentication: the same token

    def get_security_definition(self, auto_schema):
        definition = super().get_security_definition(auto_schema)
        definition["description"] = "Paste the JWT access token without the Bearer prefix."
        return definition


# The same `jwtAuth` scheme: only the place of the token differs (a documented parameter).
set_override(EventStreamAuthentication, "suppress_collision_warning", True)

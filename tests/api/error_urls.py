"""URLs used only by the envelope tests: views that fail in ways the real API must survive."""

from django.core.exceptions import PermissionDenied
from django.urls import include, path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny


def plain_django_view_that_crashes(request):
    raise RuntimeError("secret internals: password=hunter2")


def plain_django_view_that_denies(request):
    raise PermissionDenied


@api_view(["GET"])
@permission_classes([AllowAny])
def drf_view_that_crashes(request):
    raise ZeroDivisionError("SELECT * FROM secrets")


urlpatterns = [
    path("api/test/plain-crash", plain_django_view_that_crashes),
    path("api/test/plain-denied", plain_django_view_that_denies),
    path("api/test/drf-crash", drf_view_that_crashes),
    path("", include("allmine.urls")),
]

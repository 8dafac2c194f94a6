"""Views of the API plumbing: the OpenAPI document and its docs page, JSON fallbacks for
unknown URLs and Django's error handlers."""

from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.response import Response

from allmine.api.envelope import envelope_error_response
from allmine.api.middleware import is_api_path
from allmine.api.renderers import EnvelopeJSONRenderer


class EnvelopeExceptGetMixin:
    """Only a successful GET (or HEAD) is rendered by the view's own renderers (YAML, HTML...);
    OPTIONS and every error — wrong method, unacceptable `Accept`, unknown `?format=` — are
    the JSON envelope, like the rest of /api/."""

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and (
            response.status_code >= 400 or request.method == "OPTIONS"
        ):
            request.accepted_renderer = EnvelopeJSONRenderer()
            request.accepted_media_type = EnvelopeJSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class SchemaView(EnvelopeExceptGetMixin, SpectacularAPIView):
    """`/api/schema/`: the OpenAPI document, YAML or JSON (`Accept` or `?format=json`)."""


class DocsView(EnvelopeExceptGetMixin, SpectacularSwaggerView):
    """`/api/docs/`: Swagger UI over `/api/schema/`, served locally."""


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Any /api/ URL that matches no route."""
    return envelope_error_response(404)


def handler404(request, exception=None):
    if is_api_path(request.path):
        return envelope_error_response(404)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if is_api_path(request.path):
        return envelope_error_response(500)
    return defaults.server_error(request)


def handler403(request, exception=None):
    if is_api_path(request.path):
        return envelope_error_response(403)
    return defaults.permission_denied(request, exception)


def handler400(request, exception=None):
    if is_api_path(request.path):
        return envelope_error_response(400)
    return defaults.bad_request(request, exception)


def csrf_failure(request, reason=""):
    """The API authenticates with bearer tokens, never cookies; this only guards the admin."""
    if is_api_path(request.path):
        return envelope_error_response(403, "CSRF verification failed")
    return csrf.csrf_failure(request, reason=reason)

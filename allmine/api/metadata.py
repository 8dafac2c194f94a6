"""What `OPTIONS` answers on API views: the view's name and media types, nothing more.

DRF's `SimpleMetadata` also describes the input fields by building the view's serializer,
which fails (500) on viewsets whose actions each pick their own serializer. The OpenAPI
document at /api/schema/ is where fields are described.
"""

from rest_framework.metadata import SimpleMetadata


class ApiMetadata(SimpleMetadata):
    def determine_metadata(self, request, view):
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }

"""The renderer that wraps every DRF response in the envelope."""

from rest_framework.renderers import JSONRenderer

from allmine.api.envelope import envelope
from allmine.api.messages import standard_message


class EnvelopeJSONRenderer(JSONRenderer):
    """Wraps `data` in the envelope. Error responses carry a list of messages as their data
    (the exception handler makes it); anything else is replaced by the standard message."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        status_code = response.status_code if response is not None else 200
        if status_code < 400:
            body = envelope(status_code, data=data)
        else:
            if not (isinstance(data, list) and data and all(isinstance(m, str) for m in data)):
                data = [standard_message(status_code)]
            body = envelope(status_code, errors=data)
        return super().render(body, accepted_media_type, renderer_context)

"""ASGI entry point: the live event streams in production (scripts/serve-events), and the whole
service in scripts/demo."""

import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allmine.settings")

# Static files (whitenoise) and other file responses are sync iterators: Django serves them
# under ASGI as they are, and says so once per file.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous")

application = get_asgi_application()

"""The project's URLs plus the naive and the floor funded lists, for the benchmark only."""

from django.urls import path

from allmine.urls import urlpatterns as project_urlpatterns
from bench.floor import funded_floor
from bench.naive import NaiveFundedLiveStreamViewSet

NAIVE_URL = "/bench/naive/live-stream/funded"
FLOOR_URL = "/bench/floor/live-stream/funded"

urlpatterns = [
    path("bench/naive/live-stream/funded", NaiveFundedLiveStreamViewSet.as_view({"get": "list"})),
    path("bench/floor/live-stream/funded", funded_floor),
    *project_urlpatterns,
]

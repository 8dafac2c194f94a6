"""The project's URLs plus the naive funded list, for the benchmark only."""

from django.urls import path

from allmine.urls import urlpatterns as project_urlpatterns
from bench.naive import NaiveFundedLiveStreamViewSet

NAIVE_URL = "/bench/naive/live-stream/funded"

urlpatterns = [
    path("bench/naive/live-stream/funded", NaiveFundedLiveStreamViewSet.as_view({"get": "list"})),
    *project_urlpatterns,
]

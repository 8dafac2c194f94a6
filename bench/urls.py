"""The project's URLs plus the naive and the floor funded lists and the floors of the §11
lists, for the benchmark only."""

from django.urls import path

from allmine.urls import urlpatterns as project_urlpatterns
from bench.floor import funded_floor
from bench.lists_floor import bare_floor, guest_floor, my_past_floor, past_floor, upcoming_floor
from bench.naive import NaiveFundedLiveStreamViewSet

NAIVE_URL = "/bench/naive/live-stream/funded"
FLOOR_URL = "/bench/floor/live-stream/funded"

urlpatterns = [
    path("bench/naive/live-stream/funded", NaiveFundedLiveStreamViewSet.as_view({"get": "list"})),
    path("bench/floor/live-stream/funded", funded_floor),
    path("bench/floor/live-stream/user/<str:user_id>/upcoming-live-streams", upcoming_floor),
    path("bench/floor/live-stream/user/<str:user_id>/past-streams", past_floor),
    path("bench/floor/live-stream/my-past-streams", my_past_floor),
    path("bench/floor/live-stream/guest-streams", guest_floor),
    path("bench/floor/not-modified", bare_floor),
    *project_urlpatterns,
]

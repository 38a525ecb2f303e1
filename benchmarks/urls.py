"""The example site's URLs plus the hand-written baseline API (benchmarks only)."""

from config.urls import urlpatterns as site
from django.urls import include, path

urlpatterns = [path("bench/baseline/", include("benchmarks.baseline")), *site]

"""The site's URLs plus the registers API, for tests until conf/urls.py includes it."""

from django.urls import include, path

from yiwang.conf.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("api/v1/registers/", include("yiwang.registers.api.urls")),
    *site_urlpatterns,
]

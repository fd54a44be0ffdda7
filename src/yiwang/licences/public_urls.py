"""The public verification pages, mounted at ``licences/`` inside i18n_patterns (Chinese at /, English at /en/).

``v/<identifier>/`` is the address every licence's QR code encodes (``issuance.verify_url``): it must not move.
"""

from __future__ import annotations

from django.urls import path

from yiwang.licences import public_views

app_name = "licence_check"

urlpatterns = [
    path("verify/", public_views.verify, name="verify"),
    path("v/<str:identifier>/", public_views.by_identifier, name="by_identifier"),
]

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from oauth2_provider import urls as oauth2_urls

from yiwang.identity.oidc import DiscoveryView

# Single sign-on for department systems (docs/sso.md): only DOT's protocol endpoints. Its application
# management pages are left out (any signed-in user could register a client there, bypassing the policies
# and audit of identity.clients), and so are the device flow and token introspection, which no client uses.
# Discovery is ours: the issuer is the site root (identity.oidc.issuer).
_OAUTH2_ENDPOINTS = {"authorize", "token", "revoke-token", "jwks-info", "user-info", "rp-initiated-logout"}
oauth2_patterns = [
    re_path(r"^\.well-known/openid-configuration/?$", DiscoveryView.as_view(), name="oidc-connect-discovery-info"),
    *(p for p in oauth2_urls.base_urlpatterns + oauth2_urls.oidc_urlpatterns if p.name in _OAUTH2_ENDPOINTS),
]

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path(".well-known/openid-configuration", DiscoveryView.as_view(), name="oidc-discovery"),
    path("o/", include((oauth2_patterns, "oauth2_provider"), namespace="oauth2_provider")),
    path("api/v1/registers/", include("yiwang.registers.api.urls")),
    path("api/v1/sharing/", include("yiwang.sharing.api.urls")),
    path("api/v1/", include("yiwang.catalogue.api.urls")),
    path("api/v1/", include("yiwang.identity.api.urls")),
    path("api/v1/", include("yiwang.cases.api.urls")),
    path("api/v1/", include("yiwang.licences.api.urls")),
    # Trust anchors for verifiers (root certificate, CRL): the same bytes in every language, at the address the
    # certificates name.
    path("licences/", include("yiwang.licences.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
# Pages: Chinese at /, English at /en/ (shareable links in either language).
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("workbench/", include("yiwang.workbench.urls")),
    # The licence wallet (licences/wallet/…) and public share links (licences/s/<token>/).
    path("licences/", include("yiwang.licences.wallet_urls")),
    # Public verification of licences (licences/verify/, and licences/v/<identifier>/ that every QR code opens).
    path("licences/", include("yiwang.licences.public_urls")),
    path("", include("yiwang.portal.urls")),
    prefix_default_language=False,
)

"""Public portal pages (mounted at "" under i18n_patterns: Chinese at /, English at /en/)."""

from __future__ import annotations

from django.urls import path

from yiwang.notifications import views as notification_views
from yiwang.portal import account_views, case_urls, data_access_views, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("items/<str:code>/", views.guide, name="guide"),
    path("items/<str:code>/versions/", views.history, name="history"),
    path("items/<str:code>/versions/<int:number>/", views.version_detail, name="version"),
    path("items/<str:code>/diff/", views.diff, name="diff"),
    path("items/<str:code>/files/<path:reference>", views.attachment, name="file"),
    path("departments/", views.departments, name="departments"),
    path("regions/", views.regions, name="regions"),
    path("regions/<str:code>/", views.region_detail, name="region"),
    # Identity: the names login, logout, account and totp are used by settings and middleware.
    path("login/", account_views.login_view, name="login"),
    path("logout/", account_views.logout_view, name="logout"),
    path("register/", account_views.register_view, name="register"),
    path("password/reset/", account_views.password_reset_view, name="password_reset"),
    path("account/", account_views.account_view, name="account"),
    path("account/totp/", account_views.totp_view, name="totp"),
    path("account/enterprises/", account_views.enterprises_view, name="enterprises"),
    path("account/agencies/", account_views.agencies_view, name="agencies"),
    path("account/agencies/<int:pk>/revoke/", account_views.agency_revoke, name="agency_revoke"),
    path("account/agencies/<int:pk>/act/", account_views.agency_act, name="agency_act"),
    path("account/acting/stop/", account_views.stop_acting, name="stop_acting"),
    # 谁查看了我的数据: the data-sharing access log about the person and their enterprises.
    path("account/data-access/", data_access_views.data_access, name="data_access"),
    # The message centre (notifications app).
    path("my/messages/", notification_views.portal_messages, name="messages"),
    path("my/messages/read/", notification_views.portal_mark_read, name="messages_read"),
    *case_urls.urlpatterns,
]

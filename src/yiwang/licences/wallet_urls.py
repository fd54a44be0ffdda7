"""The licence wallet (我的证照, signed-in holders) and the public share page, under ``licences/`` in every language.

Mounted next to the verification pages' include (``licences/verify/``, ``licences/v/<id>/``): the paths differ, so
both live under the same prefix.
"""

from __future__ import annotations

from django.urls import path

from yiwang.licences import wallet_views

app_name = "wallet"

urlpatterns = [
    path("wallet/", wallet_views.wallet_list, name="list"),
    path("wallet/<int:pk>/", wallet_views.licence_detail, name="licence"),
    path("wallet/<int:pk>/file/", wallet_views.licence_file, name="file"),
    path("wallet/<int:pk>/shares/", wallet_views.share_create, name="share"),
    path("wallet/shares/<int:pk>/withdraw/", wallet_views.share_withdraw, name="withdraw"),
    path("s/<str:token>/", wallet_views.shared, name="shared"),
    path("s/<str:token>/file/", wallet_views.shared_file, name="shared_file"),
]

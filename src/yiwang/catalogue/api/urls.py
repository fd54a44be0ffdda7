from django.urls import path

from yiwang.catalogue.api import views

urlpatterns = [
    path("items/", views.ItemListView.as_view(), name="api-items"),
    path("items/<str:code>/", views.ItemDetailView.as_view(), name="api-item"),
    path("items/<str:code>/versions/", views.ItemHistoryView.as_view(), name="api-item-versions"),
    path("items/<str:code>/versions/<int:number>/", views.ItemVersionView.as_view(), name="api-item-version"),
    path("items/<str:code>/diff/", views.ItemDiffView.as_view(), name="api-item-diff"),
    path("departments/", views.DepartmentListView.as_view(), name="api-departments"),
    path("divisions/", views.DivisionListView.as_view(), name="api-divisions"),
    path("manage/versions/", views.ManagedVersionListView.as_view(), name="api-manage-versions"),
    path("manage/versions/<int:pk>/", views.ManagedVersionDetailView.as_view(), name="api-manage-version"),
    path("manage/versions/<int:pk>/<str:action>/", views.ManagedVersionActionView.as_view(), name="api-manage-action"),
    path("manage/check/", views.CheckView.as_view(), name="api-manage-check"),
    path("manage/import/", views.ImportView.as_view(), name="api-manage-import"),
]

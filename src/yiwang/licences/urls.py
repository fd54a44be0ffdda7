from django.urls import path

from yiwang.licences import views

app_name = "licences"

urlpatterns = [
    path("pki/root.pem", views.root_certificate, name="root_certificate"),
    path("pki/crl.der", views.revocation_list, name="crl"),
]

from django.urls import path

from . import views

app_name = "shop"
urlpatterns = [
    path("", views.home, name="home"),
    path("account/", views.account, name="account"),
    path("account/spa/", views.account_spa, name="account-spa"),
]

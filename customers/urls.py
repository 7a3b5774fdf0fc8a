from django.urls import path

from customers import views

app_name = "customers"

urlpatterns = [
    path("", views.request_form, name="request"),
    path("links/", views.resend_links, name="links"),
    path("received/<str:token>/", views.received, name="received"),
    path("status/<str:token>/", views.status, name="status"),
    path("status/<str:token>/reply/", views.reply, name="reply"),
    path("status/<str:token>/files/<int:pk>/", views.attachment, name="attachment"),
    path("status/<str:token>/rate/", views.rate, name="rate"),
    path("status/<str:token>/reopen/", views.reopen, name="reopen"),
]

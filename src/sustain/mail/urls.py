from django.urls import path

from sustain.mail import views

app_name = "mail"
urlpatterns = [
    path("", views.mail_list, name="list"),
    path("<int:mail_id>", views.mail_detail, name="detail"),
    path("<int:mail_id>/dismiss", views.dismiss, name="dismiss"),
    path("<int:mail_id>/raw", views.mail_raw, name="raw"),
]

"""Root URLconf."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from sustain.api import api
from sustain.core import views as core_views
from sustain.desk import views as desk_views
from sustain.monitoring import otlp_views
from sustain.monitoring.exposition import metrics_view

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("v1/metrics", otlp_views.receive, name="otlp_metrics"),  # OTLP/HTTP's own path
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    re_path(r"^api/", core_views.api_not_found),  # the API's own error format, not a page
    path("desk/", include("sustain.desk.urls")),
    path("portal/", include("sustain.desk.portal_urls")),
    path("sla/", include("sustain.sla.urls")),
    path("reports/", include("sustain.reports.urls")),
    path("settings/", include("sustain.notifications.urls")),
    path("webhooks/", include("sustain.hooks.urls")),
    path("mail/", include("sustain.mail.urls")),
    path("monitoring/", include("sustain.monitoring.urls")),
    path("cmdb/", include("sustain.cmdb.urls")),
    path("ping/", include("sustain.monitoring.ping_urls")),
    path("bugs/", include("sustain.bugs.urls")),
    path("similar/", include("sustain.bugs.similar.urls")),
    path("releases/", include("sustain.releases.urls")),
    path("environments/", include("sustain.releases.deployments.urls")),
    path("portal/environments/", include("sustain.releases.deployments.portal_urls")),
    path("portal/status/", include("sustain.monitoring.portal_urls")),
    path("portal/rules/", include("sustain.monitoring.rule_portal_urls")),
    path("attachments/<int:attachment_id>", desk_views.download_attachment, name="attachment"),
]

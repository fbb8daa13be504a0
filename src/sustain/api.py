"""The NinjaAPI that mounts each app's router under /api/v1/."""

from ninja import NinjaAPI, Swagger

from sustain.accounts.api import router as accounts_router
from sustain.accounts.auth import TokenAuth
from sustain.bugs.api import router as bugs_router
from sustain.bugs.similar.api import router as similar_router
from sustain.bugs.vcs.api import router as vcs_router
from sustain.cmdb.api import router as cmdb_router
from sustain.cmdb.config_api import router as config_router
from sustain.core import strict_params
from sustain.core.api import (
    ActiveSessionAuth,
    StrictJsonParser,
    install_error_handlers,
)
from sustain.desk.api import router as desk_router
from sustain.hooks.api import router as hooks_router
from sustain.mail.api import router as mail_router
from sustain.monitoring.api import router as monitoring_router
from sustain.monitoring.chart_api import router as chart_router
from sustain.monitoring.heartbeat_api import router as heartbeat_router
from sustain.monitoring.probe_api import router as probe_router
from sustain.monitoring.prometheus_source_api import router as prometheus_source_router
from sustain.monitoring.rule_api import router as rule_router
from sustain.monitoring.scrape_api import router as scrape_router
from sustain.monitoring.series_api import router as series_router
from sustain.notifications.api import router as notifications_router
from sustain.releases.api import router as releases_router
from sustain.releases.deployments.api import router as deployments_router
from sustain.reports.api import router as reports_router
from sustain.sla.api import router as sla_router

api = NinjaAPI(
    title="Sustain API",
    version="1",
    description="Maintenance and support: customers, CMDB, incidents. Authenticate with "
    "`Authorization: Bearer <token>` (create one with `sustain token create EMAIL`).",
    auth=[TokenAuth(), ActiveSessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
    # Served from our static files ("ninja" is an installed app); no call to the online
    # validator, which the Content-Security-Policy would refuse anyway.
    docs=Swagger(settings={"validatorUrl": None}),
    openapi_url="/openapi.json",
    parser=StrictJsonParser(),
)
install_error_handlers(api)
api.add_router("/v1/", accounts_router)
api.add_router("/v1/", cmdb_router)
api.add_router("/v1/", config_router)
api.add_router("/v1/", desk_router)
api.add_router("/v1/", sla_router)
api.add_router("/v1/", reports_router)
api.add_router("/v1/", notifications_router)
api.add_router("/v1/", hooks_router)
api.add_router("/v1/", mail_router)
api.add_router("/v1/", bugs_router)
api.add_router("/v1/", similar_router)
api.add_router("/v1/", vcs_router)
api.add_router("/v1/", releases_router)
api.add_router("/v1/", deployments_router)
api.add_router("/v1/", monitoring_router)
api.add_router("/v1/", heartbeat_router)
api.add_router("/v1/", series_router)
api.add_router("/v1/", probe_router)
api.add_router("/v1/", rule_router)
api.add_router("/v1/", prometheus_source_router)
api.add_router("/v1/", scrape_router)
api.add_router("/v1/", chart_router)
strict_params.install(api)  # after the last add_router: unknown query params / bodies → 422

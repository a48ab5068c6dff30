"""The Litestar application factory: one function builds the whole app from a Settings object."""

from __future__ import annotations

import gc

from litestar import Litestar, Router, get
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.base import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from survey_app import background
from survey_app.core import db, worker_process
from survey_app.accounts.audit_controllers import AuditController
from survey_app.units.counter_controllers import CounterAdminController, UnitCountersController
from survey_app.units.domain_controllers import DomainAdminController
from survey_app.campaigns.questionnaire_controllers import QuestionnaireAdminController
from survey_app.units.controllers import UnitAdminController
from survey_app.units.unit_change_controllers import UnitChangeController
from survey_app.accounts.user_controllers import UserAdminController
from survey_app.accounts.token_controllers import TokenAdminController
from survey_app.campaigns.controllers import ANALYST_HANDLERS
from survey_app.core.api_schema import document_statuses
from survey_app.accounts import PUBLIC
from survey_app.accounts.controllers import AUTH_HANDLERS
from survey_app.accounts.middleware import (
    SESSION_STORE,
    UserMiddleware,
    check_access,
    not_signed_in_handler,
    refuse_unguarded_routes,
    session_store,
)
from survey_app.core.compression import TextOnlyCompressionMiddleware
from survey_app.core.errors import EXCEPTION_HANDLERS
from survey_app.exports.controllers import DownloadController, ExportJobController
from survey_app.core.health_controllers import healthz, readyz, shared_redis, warn_if_redis_unreachable
from survey_app.core.limits import form_post_limiter
from survey_app.core.logs import litestar_logging
from survey_app.core.metrics import MetricsMiddleware
from survey_app.core.metrics_controllers import metrics
from survey_app.officials.controllers import OfficialController
from survey_app.officials import invitations
from survey_app.officials.invitation_controllers import InvitationController
from survey_app.dossiers.controllers import DossierApiController, DossierRatingController
from survey_app.dossiers.pages import DossierImportController
from survey_app.results.decision_766_controllers import Decision766Controller
from survey_app.officials.pages import SamplingController
from survey_app.officials.guessing import guess_limiter
from survey_app.paper.controllers import KeyingController, PaperController
from survey_app.paper.online_controllers import PaperOnlineController
from survey_app.public.controllers import CounterFormController
from survey_app.webhooks.controllers import WEBHOOK_HANDLERS
from survey_app.public.services import form_cache
from survey_app.results.controllers import IndexApiController, ResultsController
from survey_app.results.weighting_controllers import WeightingController
from survey_app.core.security import security_headers_hook
from survey_app.core.static_assets import StaticAssets
from survey_app.core.static_controllers import fingerprinted_file, kiosk_service_worker
from survey_app.core.settings import PROJECT_ROOT, Settings
from survey_app.core.templating import configure_environment

ADMIN_CONTROLLERS = [UnitChangeController, UnitAdminController, CounterAdminController, UnitCountersController,
                     DomainAdminController, UserAdminController, QuestionnaireAdminController, TokenAdminController]
TEMPLATES = PROJECT_ROOT / "survey_app" / "templates"
MAX_BODY_BYTES = 256 * 1024  # a long questionnaire with text answers stays far below this
# Brotli for browsers that take it (~15 % smaller than gzip on our pages), gzip for the rest; below 500 bytes
# compressing saves less than a packet. Quality 5: most of brotli's gain at a small share of its CPU (11 is ~50x slower).
COMPRESSION = CompressionConfig(backend="brotli", brotli_gzip_fallback=True, brotli_quality=5, gzip_compress_level=6,
                                minimum_size=500, middleware_class=TextOnlyCompressionMiddleware)
YOUNG_COLLECTION_THRESHOLD = 10_000  # allocations between young collections (Python: 700)


@get("/", include_in_schema=False, opt=PUBLIC)
async def home() -> Redirect:
    return Redirect(path="/results")


# Citizens' and officials' routes, every handler PUBLIC: they go without the access guard, since Litestar copies
# the handler for each guard it runs (a measurable share of a form post). Every other route is under the guard,
# and create_app refuses to build an app with an unguarded route that is not PUBLIC.
PUBLIC_HANDLERS = [home, healthz, readyz, fingerprinted_file, kiosk_service_worker, CounterFormController,
                   ResultsController, IndexApiController, OfficialController, PaperOnlineController,
                   DossierRatingController]
GUARDED_HANDLERS = [metrics, AuditController, DownloadController, ExportJobController, SamplingController,
                    InvitationController, PaperController, KeyingController, WeightingController,
                    DossierApiController, DossierImportController, Decision766Controller,
                    *ANALYST_HANDLERS, *WEBHOOK_HANDLERS,
                    *AUTH_HANDLERS, *ADMIN_CONTROLLERS]


async def tune_garbage_collector(app: Litestar) -> None:
    """Move what start-up built (the app, its routes, templates, tables: some 270,000 objects) out of the garbage
    collector's reach: every full collection walked them all, ~0.15 s with every request on the worker stalled.
    And collect the young generation less often: a form post leaves no cyclic garbage, but at the default
    threshold (700 allocations) a young collection ran every dozen posts, 15–17 µs of CPU a post."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])


def create_app(settings: Settings) -> Litestar:
    async def open_database(app: Litestar) -> None:
        app.state.engine = await db.connect(settings)
        app.state.jobs = await background.start(settings)
        await worker_process.start()

    async def close_database(app: Litestar) -> None:
        await invitations.stop_sendings()
        await background.stop(app.state.jobs)
        await db.disconnect(app.state.engine)
        await app.state.code_guesses.counter.close()
        await app.state.form_posts.counter.close()
        await app.state.sign_in_failures.counter.close()
        if app.state.redis is not None:
            await app.state.redis.aclose()
        worker_process.stop()

    static_assets = StaticAssets.load(settings.static_dir)

    def configure_templates(engine: JinjaTemplateEngine) -> None:
        configure_environment(engine)
        engine.engine.globals.update(static_url=static_assets.url, inline_css=static_assets.inline_css)

    app = Litestar(
        route_handlers=[
            *PUBLIC_HANDLERS, Router("/", route_handlers=GUARDED_HANDLERS, guards=[check_access]),
            create_static_files_router(path="/static", directories=[settings.static_dir], include_in_schema=False,
                                       opt=PUBLIC),
        ],
        state=State({"settings": settings, "static_assets": static_assets, "code_guesses": guess_limiter(settings),
                     "sign_in_failures": guess_limiter(settings, "sign_in_failures"), "redis": shared_redis(settings),
                     "form_posts": form_post_limiter(settings), "form_cache": form_cache(settings)}),
        on_startup=[open_database, warn_if_redis_unreachable, tune_garbage_collector],
        on_shutdown=[close_database],
        template_config=TemplateConfig(
            directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=configure_templates
        ),
        exception_handlers={**EXCEPTION_HANDLERS, NotAuthorizedException: not_signed_in_handler},
        # The schema as JSON only: the browsable viewers load their scripts from public CDNs (blank under our CSP
        # and offline); any OpenAPI viewer can open /api/docs/openapi.json.
        openapi_config=OpenAPIConfig(title="SIPAS survey API", version="1", render_plugins=[JsonRenderPlugin()],
                                     openapi_router=Router("/api/docs", route_handlers=[], opt=PUBLIC)),
        request_max_body_size=MAX_BODY_BYTES,
        compression_config=COMPRESSION,
        before_send=[security_headers_hook(settings.uses_https, static_assets.inline_css_hash)],
        middleware=[MetricsMiddleware, DefineMiddleware(UserMiddleware)],
        csrf_config=CSRFConfig(secret=settings.secret_key, cookie_secure=settings.uses_https, cookie_samesite="strict"),
        stores={SESSION_STORE: session_store(settings)},
        **litestar_logging(settings.log_format),
    )
    refuse_unguarded_routes(app)
    document_statuses(app)
    return app


def create_app_from_env() -> Litestar:
    """Entry point for uvicorn --factory: settings from the environment; staff pages' CPU work in a worker process."""
    worker_process.ENABLED = True
    return create_app(Settings.from_env())

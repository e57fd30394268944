from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from common.ratelimit import rate_limit
from hubs.forms import EmailAuthenticationForm
from impact.reports.views import document_verify

from . import views

urlpatterns = [
    path("", views.root, name="root"),
    path("healthz/", views.healthz, name="healthz"),
    path("readyz/", views.readyz, name="readyz"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    # The admin, the API and the probes keep one address; they speak the cookie's, the profile's or the
    # browser's language (LocaleMiddleware, hubs.middleware).
    path("admin/", admin.site.urls),
    path("api/v1/", include("closegap.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

# The pages people read have an address per language, to share and for search engines: /en/, /fr/, /nl/.
# An address without one ("/", "/donors/") redirects to the person's language (LocaleMiddleware).
urlpatterns += i18n_patterns(
    path("", include("impact.urls")),
    path("donors/", include("donations.urls")),
    path("evidence/", include("donations.evidence_urls")),
    # Public: anyone holding a certificate or a yearly report checks it here (the address its QR code carries,
    # without a language).
    path("verify/<str:number>/", document_verify, name="certificate-verify"),
    path("projects/", include("projects.urls")),
    # The scan station, under the prefix like every page. A label's QR code holds the address without one
    # (/scan/d/<code>/, refurbishing.scan.responses.label_url), which redirects to the scanner's language.
    path("scan/check-in/", include("donations.check_in_urls")),
    path("scan/snapshots/", include("refurbishing.hardware.urls")),
    path("scan/", include("refurbishing.urls")),
    path("accounts/after-login/", views.after_login, name="after-login"),
    # Before Django's own: the same view, limited per address (each POST may send an e-mail).
    path(
        "accounts/password_reset/",
        rate_limit("password_reset")(auth_views.PasswordResetView.as_view()),
        name="password_reset",
    ),
    # Before Django's own: sign-in takes the e-mail address (hubs.forms, hubs.accounts.backends).
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm), name="login"),
    # Before Django's own: signing out also clears the offline scan station's storage (Clear-Site-Data).
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
    path("accounts/", include("hubs.urls")),
    path("accounts/my-data/", views.my_data, name="my-data"),
    path("accounts/my-data.json", views.my_data_download, name="my-data-download"),
    path("accounts/delete/", views.account_delete, name="account-delete"),
    path("accounts/", include("django.contrib.auth.urls")),
    prefix_default_language=True,
)

# Under /api/ Django's own error pages answer with the API's error body (common.api_errors).
handler400 = "common.api_errors.bad_request"
handler404 = "common.api_errors.page_not_found"
handler500 = "common.api_errors.server_error"

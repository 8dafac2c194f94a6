from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path, re_path

from allmine.admin_login import ThrottledAdminAuthenticationForm, admin_login
from allmine.api import urls as api_urls
from allmine.api import views as api_views


def favicon(request):
    """Browsers ask for /favicon.ico on pages that do not name an icon."""
    return redirect(static("allmine/favicon.svg"), permanent=True)


admin.site.login_form = ThrottledAdminAuthenticationForm
admin.site.site_url = "/api/docs/"  # "View site": there is no site, the API is it

urlpatterns = [
    path("favicon.ico", favicon),
    # Before the admin's own URLs: its login page with the sign-in rate limits.
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    # The API's URL table: allmine/api/urls.py.
    path("api/v1/", include(api_urls.v1)),
    path("api/v2/", include(api_urls.v2)),
    path("api/schema/", api_views.SchemaView.as_view(), name="schema"),
    path("api/docs/", api_views.DocsView.as_view(url_name="schema"), name="swagger-ui"),
    # Anything else under /api/ is a 404 in the envelope, DEBUG or not.
    re_path(r"^api/", api_views.api_not_found),
]

handler400 = api_views.handler400
handler403 = api_views.handler403
handler404 = api_views.handler404
handler500 = api_views.handler500

from django.urls import path

from users.views import LoginView, LogoutView, MeView, MyTransactionsView, RefreshView

urlpatterns = [
    path("auth/login", LoginView.as_view(), name="auth-login"),
    path("auth/refresh", RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", LogoutView.as_view(), name="auth-logout"),
    path("users/me", MeView.as_view(), name="users-me"),
    path("users/me/transactions", MyTransactionsView.as_view(), name="users-me-transactions"),
]

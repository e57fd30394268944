"""Sign-in with an e-mail address (any case) or, for accounts that have one people know, the username."""

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from hubs.accounts.services import account_username_for_login

# The backend a person signed in by a form of ours (sign-in, sign-up, invitation) is logged in with, by path.
SIGN_IN_BACKEND = "hubs.accounts.backends.EmailOrUsernameBackend"


class EmailOrUsernameBackend(ModelBackend):
    """Django's own checks (active user, password hashing in constant time), keyed by address or username."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs
    ):
        if username is None:
            username = kwargs.get("email")
        if username is None or password is None:
            return None
        return super().authenticate(request, username=account_username_for_login(typed=username), password=password)

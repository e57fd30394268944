"""At login, the session learns the person's own language (ProfileLanguageMiddleware) and what the second factor
asks of them (SecondFactorMiddleware), so pages do not ask the database on every request."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .accounts.second_factor import second_factor_remember
from .middleware import PROFILE_LANGUAGE_SESSION_KEY
from .selectors import user_language


@receiver(user_logged_in, dispatch_uid="hubs.remember_profile_language")
def remember_profile_language(sender, request, user, **kwargs) -> None:
    # Read once per login rather than on every request; the language switcher keeps it current afterwards.
    session = getattr(request, "session", None)
    language = user_language(user=user) if session is not None else None
    if language:
        session[PROFILE_LANGUAGE_SESSION_KEY] = language


@receiver(user_logged_in, dispatch_uid="hubs.remember_second_factor")
def remember_second_factor(sender, request, user, **kwargs) -> None:
    if getattr(request, "session", None) is not None:
        second_factor_remember(request, user=user)

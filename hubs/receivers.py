"""At login, the person's own language (their profile) is put in their session for ProfileLanguageMiddleware."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .middleware import PROFILE_LANGUAGE_SESSION_KEY
from .selectors import user_language


@receiver(user_logged_in, dispatch_uid="hubs.remember_profile_language")
def remember_profile_language(sender, request, user, **kwargs) -> None:
    # Read once per login rather than on every request; the language switcher keeps it current afterwards.
    session = getattr(request, "session", None)
    language = user_language(user=user) if session is not None else None
    if language:
        session[PROFILE_LANGUAGE_SESSION_KEY] = language

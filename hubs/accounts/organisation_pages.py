"""Pages every kind of organisation account shares: signing up, and the team page (users listed, colleagues
invited by e-mail, users removed, invitations withdrawn).

Donors (``donations``) and beneficiary organisations (``projects``) use them with their own organisations,
services, URLs and wording; nothing here knows either of them, so neither app imports the other.
"""

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.ratelimit import rate_limit
from hubs.accounts.backends import SIGN_IN_BACKEND
from hubs.accounts.services import email_verification_send, invitation_pending_list
from hubs.forms import InviteColleagueForm, OrganisationSignUpForm


def organisation_sign_up(
    request: HttpRequest,
    *,
    form: OrganisationSignUpForm,
    sign_up: Callable[..., tuple[Model, AbstractBaseUser]],
    error: type[Exception],
) -> tuple[Model, AbstractBaseUser] | None:
    """On a valid POST, the organisation and its first user, signed in and sent the link to verify the address.

    ``sign_up`` is the face's service, called with the form's ``sign_up_details()``; ``error`` is the service's
    error, which lands on the e-mail field. A ``ValidationError`` from ``sign_up`` lands on the fields it names.
    None, with the form carrying its errors, when nothing was signed up.
    """
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        organisation, user = sign_up(**form.sign_up_details())
    except error as exc:
        # Someone signed up with this address between our check and the insert.
        form.add_error("email", str(exc))
        return None
    except ValidationError as exc:
        form.add_error(None, exc)
        return None
    login(request, user, backend=SIGN_IN_BACKEND)
    email_verification_send(user=user, request=request)
    return organisation, user


class OrganisationTeam:
    """The team pages of one kind of organisation, whose model has a ``users`` relation and is named by ``str()``.

    A face subclasses it with where its pages are and which of its services make the changes; its URLs point at
    the views of one instance: ``team``, ``team_invite``, ``team_member_remove`` and ``team_invitation_withdraw``.
    """

    # The face's URL namespace: its pages are named <namespace>:team, :team-invite, :team-remove, :team-withdraw.
    namespace: ClassVar[str]
    # Extends accounts/team.html, saying in its intro block what the organisation's users may do.
    template_name: ClassVar[str]
    # The invitation form of each organisation on the page: this prefix followed by the organisation's id.
    form_prefix: ClassVar[str]
    invitation_kind: ClassVar[str]
    # What the face's services raise, with a message the person can act on.
    error: ClassVar[type[Exception]]
    extra_context: ClassVar[dict[str, Any]] = {}

    def organisation_list(self, *, user: AbstractBaseUser) -> QuerySet:
        """The organisations of this kind the user belongs to."""
        raise NotImplementedError

    def colleague_invite(
        self, *, organisation: Model, actor: AbstractBaseUser, email: str, request: HttpRequest
    ) -> None:
        raise NotImplementedError

    def member_remove(self, *, organisation: Model, actor: AbstractBaseUser, user: AbstractBaseUser) -> None:
        raise NotImplementedError

    def invitation_revoke(self, *, organisation: Model, actor: AbstractBaseUser, invitation_id: int) -> None:
        raise NotImplementedError

    def without_organisation(self, request: HttpRequest) -> HttpResponse | None:
        """The answer to a user who belongs to no such organisation; None shows them the page, empty."""
        return None

    def _own(self, request: HttpRequest, organisation_id: int) -> Model:
        # Only the user's own organisations: any other id is a 404, so ids cannot be probed.
        organisation = self.organisation_list(user=request.user).filter(pk=organisation_id).first()
        if organisation is None:
            raise Http404(_("No such organisation among yours."))
        return organisation

    def _form(self, organisation: Model, data: Any = None) -> InviteColleagueForm:
        return InviteColleagueForm(data=data, prefix=f"{self.form_prefix}{organisation.pk}")

    def _page(
        self, request: HttpRequest, *, forms: dict[int, InviteColleagueForm] | None = None, status: int = 200
    ) -> HttpResponse:
        organisations = list(self.organisation_list(user=request.user).prefetch_related("users"))
        if not organisations and (refused := self.without_organisation(request)) is not None:
            return refused
        forms = forms or {}
        teams = [
            {
                "organisation": organisation,
                "members": sorted(
                    organisation.users.all(), key=lambda user: (user.email or user.get_username()).lower()
                ),
                "invitations": list(invitation_pending_list(kind=self.invitation_kind, target_id=organisation.pk)),
                "form": forms.get(organisation.pk) or self._form(organisation),
            }
            for organisation in organisations
        ]
        url_names = {page: f"{self.namespace}:team-{page}" for page in ("invite", "remove", "withdraw")}
        context = {"teams": teams, "url_names": url_names, **self.extra_context}
        return render(request, self.template_name, context, status=status)

    def _back(self) -> HttpResponse:
        return redirect(f"{self.namespace}:team")

    @method_decorator(login_required)
    def team(self, request: HttpRequest) -> HttpResponse:
        return self._page(request)

    @method_decorator(require_POST)
    @method_decorator(login_required)
    @method_decorator(rate_limit("email"))
    def team_invite(self, request: HttpRequest, organisation_id: int) -> HttpResponse:
        organisation = self._own(request, organisation_id)
        form = self._form(organisation, data=request.POST)
        if form.is_valid():
            email = form.cleaned_data["email"]
            try:
                self.colleague_invite(organisation=organisation, actor=request.user, email=email, request=request)
            except self.error as exc:
                form.add_error("email", str(exc))
            else:
                messages.success(
                    request, _("We sent an invitation to %(email)s. It works for 7 days.") % {"email": email}
                )
                return self._back()
        return self._page(request, forms={organisation.pk: form}, status=400)

    @method_decorator(require_POST)
    @method_decorator(login_required)
    def team_member_remove(self, request: HttpRequest, organisation_id: int, user_id: int) -> HttpResponse:
        organisation = self._own(request, organisation_id)
        member = organisation.users.filter(pk=user_id).first()
        if member is None:
            raise Http404(_("No such user in your organisation."))
        try:
            self.member_remove(organisation=organisation, actor=request.user, user=member)
        except self.error as exc:
            messages.error(request, str(exc))
            return self._back()
        name = member.get_full_name() or member.email or member.get_username()
        messages.success(request, _("%(name)s no longer belongs to %(org)s.") % {"name": name, "org": organisation})
        if member.pk == request.user.pk:
            return redirect("after-login")
        return self._back()

    @method_decorator(require_POST)
    @method_decorator(login_required)
    def team_invitation_withdraw(self, request: HttpRequest, organisation_id: int, invitation_id: int) -> HttpResponse:
        organisation = self._own(request, organisation_id)
        try:
            self.invitation_revoke(organisation=organisation, actor=request.user, invitation_id=invitation_id)
        except self.error as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The invitation is withdrawn: its link no longer works."))
        return self._back()

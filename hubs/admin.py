"""Admin for hubs and memberships, and the hub-scoped permission rules every admin of the project shares.

Who may do what in the admin is answered by hub membership, not by Django's per-model permission table:

- a superuser may do everything (platform admin: hubs, users, roles, opening balances);
- an active staff user (``is_staff``) with at least one ``HubMembership`` sees the project's admin pages and may
  view, and where a ModelAdmin allows it change, the rows of *their* hubs only (``hubs.selectors``);
- anyone else sees nothing, even with model permissions granted by hand.

Why: the hub is the unit of trust in this product ("sees only their own hub's work"), and membership already says
it. Mirroring it in ``auth.Permission`` rows would be a second source of truth to keep in sync, and demo or newly
added hub accounts would see an empty admin until someone also ticked permission boxes. The models of
``django.contrib.auth`` keep Django's default rules, so only superusers manage users.

``HubScopedAdmin`` and ``HubScopedInlineMixin`` carry these rules, and ``render_action_form`` draws the details
page of a bulk action; the ModelAdmins of the other apps build on them (``hubs`` is the bottom layer, so every app
may import it).
"""

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core import validators
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import LIFECYCLE_STEPS, Hub, HubKind, HubMembership, Partner, UserProfile
from .selectors import (
    hub_id_of,
    hub_ids_for_action,
    restrict_to_user_hubs,
    user_is_hub_staff,
    user_is_partner_staff,
    user_may_in_hub,
)
from .services import HubError, hub_member_invite, hub_membership_grant, hub_membership_remove


def request_is_hub_staff(request: HttpRequest) -> bool:
    """An active staff user working at a hub, or a superuser."""
    user = request.user
    return bool(user.is_active and user.is_staff and user_is_hub_staff(user=user))


def request_is_partner_staff(request: HttpRequest) -> bool:
    """An active staff user working for a refurbishment partner (they reach only what its work orders assign)."""
    user = request.user
    return bool(user.is_active and user.is_staff and user_is_partner_staff(user=user))


def request_is_superuser(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_superuser)


def request_may_write(request: HttpRequest, *, staff_flag: bool) -> bool:
    """A superuser, or hub staff where the admin's ``staff_can_*`` flag lets them."""
    return request_is_superuser(request) or (staff_flag and request_is_hub_staff(request))


def render_action_form(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    action_name: str,
    title: str,
    form: forms.Form,
    selected_ids: Sequence[int],
    selected_objects: Sequence[Any],
    intro: str = "",
) -> TemplateResponse:
    """The page between choosing a bulk action and applying it: the selection, the action's form, Apply or Cancel.

    It posts back to the changelist with the action's name and the selected ids (Django's own pattern for
    "delete selected"), and the action sees ``"apply"`` in the POST once the user confirms. A model may override
    the page with ``admin/<app>/<model>/action_form.html``.
    """
    opts = modeladmin.model._meta
    form.required_css_class = "required"  # bold labels on required fields, as on admin change forms
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "opts": opts,
        "app_label": opts.app_label,
        "form": form,
        "media": modeladmin.media + form.media,
        "admin_action": action_name,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "selected_ids": list(selected_ids),
        "selected_objects": list(selected_objects),
        "more_selected": max(len(selected_ids) - len(selected_objects), 0),
        # The same URL, with the changelist's filters, so Cancel returns to the list as it was.
        "cancel_url": request.get_full_path(),
    }
    templates = [f"admin/{opts.app_label}/{opts.model_name}/action_form.html", "admin/action_form.html"]
    return TemplateResponse(request, templates, context)


class UserHubListFilter(admin.RelatedFieldListFilter):
    """A hub filter that lists only the user's hubs: ``list_filter = [("hub", UserHubListFilter)]``."""

    def field_choices(self, field, request, model_admin):
        return [(hub.pk, str(hub)) for hub in Hub.objects.restrict(request.user, "view").order_by("code")]


class ScopedForeignKeyRawIdWidget(widgets.ForeignKeyRawIdWidget):
    """A raw-id box that names the chosen row only when the field's (scoped) choices hold it.

    Django's widget looks the typed id up in the whole table to print its name beside the box, so a form posted
    back with another hub's id would show that row's name on the page that reports the error.
    """

    def __init__(self, rel, admin_site, *, queryset: QuerySet, attrs=None, using=None):
        super().__init__(rel, admin_site, attrs=attrs, using=using)
        self.queryset = queryset

    def label_and_url_for_value(self, value):
        key = self.rel.get_related_field().name
        try:
            allowed = self.queryset.filter(**{key: value}).exists()
        except (ValueError, TypeError, ValidationError):
            allowed = False
        return super().label_and_url_for_value(value) if allowed else ("", "")


class HubScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose rows and permissions follow the user's hub memberships (see the module docstring).

    ``hub_field`` is the path from the model to its hub (``"hub"``, ``"project__hub"``, ``"pk"`` for hubs); None
    means the model has no hub and is not narrowed. Rows are listed with ``restrict(user, "view")``; writes need
    ``write_action`` (``"act"`` for hub work, ``"manage"`` for what only a hub's managers do) on the row's hub.
    The ``staff_can_*`` flags say what hub staff may do besides viewing; superusers may always do everything a
    ModelAdmin allows, unless ``read_only`` says nobody may write here at all.

    A row outside the user's scope does not exist for them (404); a row they may see but not write answers 403
    to a write.
    """

    hub_field: str | None = "hub"
    write_action = "act"
    read_only = False
    # Whether a partner's users see this admin (its rows narrowed by the model's ``partner_scope``); they never
    # write through the change form, only move devices through the lifecycle actions.
    partner_visible = False
    staff_can_add = False
    staff_can_change = False
    staff_can_delete = False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.hub_field is None:
            return queryset
        return restrict_to_user_hubs(queryset, user=request.user, field=self.hub_field, action="view")

    def get_object(self, request, object_id, from_field=None):
        # Django's admin checks a write permission before it looks at the row, then redirects to its index with
        # "doesn't exist". Outside the user's scope is a plain 404 first, as on the API and the scan station, so
        # another hub's ids cannot be told from missing ones, and only a row they see can answer 403.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("No such row at your hubs."))
        return obj

    def _request_may_see(self, request) -> bool:
        return request_is_hub_staff(request) or (self.partner_visible and request_is_partner_staff(request))

    def has_module_permission(self, request):
        return self._request_may_see(request)

    def has_view_permission(self, request, obj=None):
        return self._request_may_see(request)

    def _may(self, request, staff_flag: bool, obj=None) -> bool:
        if self.read_only or not request_may_write(request, staff_flag=staff_flag):
            return False
        if request_is_superuser(request):
            return True
        ids = hub_ids_for_action(user=request.user, action=self.write_action)
        if not ids:
            return False
        if obj is None or self.hub_field is None:
            return True
        return hub_id_of(obj, self.hub_field) in ids

    def has_add_permission(self, request):
        return self._may(request, self.staff_can_add)

    def has_change_permission(self, request, obj=None):
        return self._may(request, self.staff_can_change, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, self.staff_can_delete, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Every hub choice offers only the hubs where the user may write, so nobody puts a row outside their scope.
        if db_field.related_model is Hub:
            kwargs["queryset"] = Hub.objects.restrict(request.user, self.write_action).order_by("code")
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and type(formfield.widget) is widgets.ForeignKeyRawIdWidget:
            formfield.widget = ScopedForeignKeyRawIdWidget(
                db_field.remote_field, self.admin_site, queryset=formfield.queryset, using=kwargs.get("using")
            )
        return formfield

    def check_still_in_scope(self, request, obj) -> None:
        """After a write the row must still be inside the user's scope; the admin's transaction rolls back if not.

        The forms already refuse other hubs; this is the last line should a form or a service change later.
        """
        if self.hub_field is None or request_is_superuser(request):
            return
        queryset = self.model._default_manager.filter(pk=obj.pk)
        if not restrict_to_user_hubs(
            queryset, user=request.user, field=self.hub_field, action=self.write_action
        ).exists():
            raise PermissionDenied(_("You can only save rows of the hubs you work at."))

    def save_model(self, request, obj, form, change):
        if self.hub_field is not None and not user_may_in_hub(
            request.user, action=self.write_action, hub_id=hub_id_of(obj, self.hub_field)
        ):
            raise PermissionDenied(_("You can only save rows of the hubs you work at."))
        super().save_model(request, obj, form, change)
        self.check_still_in_scope(request, obj)


class HubScopedInlineMixin:
    """Inline permissions by the same rules: hub staff may view, and write where a ``staff_can_*`` flag says so;
    superusers may always write."""

    staff_can_add = False
    staff_can_change = False
    staff_can_delete = False

    def has_view_permission(self, request, obj=None):
        return request_is_hub_staff(request)

    def has_add_permission(self, request, obj=None):
        return request_may_write(request, staff_flag=self.staff_can_add)

    def has_change_permission(self, request, obj=None):
        return request_may_write(request, staff_flag=self.staff_can_change)

    def has_delete_permission(self, request, obj=None):
        return request_may_write(request, staff_flag=self.staff_can_delete)


class ReadOnlyInlineMixin:
    """An inline that shows rows and never writes them, whoever looks."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        return request_is_hub_staff(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HubMembershipInline(HubScopedInlineMixin, admin.TabularInline):
    model = HubMembership
    extra = 0
    fields = ("user", "role")
    raw_id_fields = ("user",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class UserHubMembershipInline(HubScopedInlineMixin, admin.TabularInline):
    model = HubMembership
    fk_name = "user"
    extra = 0
    fields = ("hub", "role")
    verbose_name = _("hub membership")
    verbose_name_plural = _("hub memberships")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("hub")


class UserProfileInline(admin.StackedInline):
    """The person's own language, as the language switcher stores it; the platform admin may set it too."""

    model = UserProfile
    fields = ("language",)
    can_delete = False
    max_num = 1
    extra = 0


class HubKindForm(forms.ModelForm):
    """The steps as boxes to tick, in lifecycle order, rather than a JSON list to type."""

    steps = forms.MultipleChoiceField(
        label=_("steps performed"),
        choices=list(LIFECYCLE_STEPS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("The lifecycle steps hubs of this kind perform."),
    )

    class Meta:
        model = HubKind
        fields = ("code", "name", "description", "steps", "takes_company_donations", "sends_to_projects")

    def clean_steps(self) -> list[str]:
        chosen = set(self.cleaned_data["steps"])
        return [step for step in LIFECYCLE_STEPS if step in chosen]


@admin.register(Partner)
class PartnerAdmin(HubScopedAdmin):
    """Refurbishment partners and their accounts: hub staff may look (to assign work), the platform admin edits."""

    hub_field = None
    list_display = ("name", "active", "user_count")
    search_fields = ("name",)
    filter_horizontal = ("users",)

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(user_total=Count("users"))

    @admin.display(description=_("users"), ordering="user_total")
    def user_count(self, obj: Partner) -> int:
        return obj.user_total


@admin.register(HubKind)
class HubKindAdmin(HubScopedAdmin):
    """The kinds of hub and what each does: hub staff may look, only the platform admin changes them."""

    hub_field = None
    form = HubKindForm
    list_display = ("code", "name", "takes_company_donations", "sends_to_projects", "steps_display")
    search_fields = ("code", "name")
    ordering = ("name",)

    @admin.display(description=_("steps performed"))
    def steps_display(self, obj: HubKind) -> str:
        return ", ".join(str(LIFECYCLE_STEPS.get(step, step)) for step in obj.steps or [])

    def get_readonly_fields(self, request, obj=None):
        # Pages, the API and the demo know a kind by its code: it stays what it was made with.
        return ("code",) if obj is not None else ()


@admin.register(Hub)
class HubAdmin(HubScopedAdmin):
    hub_field = "pk"
    list_display = ("code", "name", "kind", "city", "country", "active")
    list_filter = ("active", "kind", "country")
    list_select_related = ("kind",)
    search_fields = ("code", "name")
    ordering = ("code",)
    inlines = (HubMembershipInline,)


class HubMembershipAddForm(forms.ModelForm):
    """Add someone to a hub by their username or e-mail address: a manager never browses the platform's users."""

    person = forms.CharField(
        label=_("username or e-mail address"),
        max_length=254,
        help_text=_("Someone without an account yet is invited by e-mail: they choose a password and join the hub."),
    )
    # Set when ``person`` is an e-mail address no account has: the membership begins with an invitation.
    invite_email: str | None = None

    class Meta:
        model = HubMembership
        fields = ("hub", "role")

    def clean_person(self):
        value = self.cleaned_data["person"].strip()
        user_model = get_user_model()
        matches = list(user_model.objects.filter(username__iexact=value, is_active=True)[:2])
        if not matches:
            matches = list(user_model.objects.filter(email__iexact=value, is_active=True)[:2])
        if not matches and "@" in value:
            try:
                validators.validate_email(value)
            except ValidationError:
                raise ValidationError(_("Enter a username, or a valid e-mail address.")) from None
            if not user_model.objects.filter(email__iexact=value).exists():
                self.invite_email = value
                return None
        if len(matches) != 1:
            raise ValidationError(_("No single active account has this username or e-mail address."))
        return matches[0]

    def clean(self):
        cleaned = super().clean()
        user, hub = cleaned.get("person"), cleaned.get("hub")
        if user is not None and hub is not None:
            if HubMembership.objects.filter(user=user, hub=hub).exists():
                raise ValidationError(
                    _("%(user)s already works at %(hub)s; change their role there instead.")
                    % {"user": user, "hub": hub.code}
                )
            self.instance.user = user
        return cleaned


@admin.register(HubMembership)
class HubMembershipAdmin(HubScopedAdmin):
    """Who works at which hub, with which role: a hub's managers add, remove and change the roles of its members."""

    write_action = "manage"
    staff_can_add = True
    staff_can_change = True
    staff_can_delete = True
    list_display = ("user", "hub", "role")
    list_filter = ("role", ("hub", UserHubListFilter))
    list_select_related = ("user", "hub")
    search_fields = ("user__username", "user__email", "hub__code")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = HubMembershipAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ("person", "hub", "role") if obj is None else ("user", "hub", "role")

    def get_readonly_fields(self, request, obj=None):
        # A membership moves to another hub by removing it and adding one there, each by that hub's manager.
        return ("user", "hub") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        try:
            if getattr(form, "invite_email", None):
                hub_member_invite(
                    actor=request.user, hub=obj.hub, email=form.invite_email, role=obj.role, request=request
                )
                obj._invited_email = form.invite_email
                return
            membership = hub_membership_grant(actor=request.user, hub=obj.hub, user=obj.user, role=obj.role)
        except HubError as error:
            raise PermissionDenied(str(error)) from error
        obj.pk = membership.pk
        self.check_still_in_scope(request, membership)

    def log_addition(self, request, obj, message):
        if getattr(obj, "_invited_email", None):
            return None  # nothing is added until the invitation is accepted
        return super().log_addition(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(obj, "_invited_email", None):
            messages.success(
                request,
                _("An invitation to %(hub)s is on its way to %(email)s.")
                % {"hub": obj.hub.code, "email": obj._invited_email},
            )
            return HttpResponseRedirect(reverse("admin:hubs_hubmembership_changelist"))
        return super().response_add(request, obj, post_url_continue)

    def delete_model(self, request, obj):
        try:
            hub_membership_remove(actor=request.user, membership=obj)
        except HubError as error:
            raise PermissionDenied(str(error)) from error

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("hub", "user"):
            self.delete_model(request, membership)


User = get_user_model()
if admin.site.is_registered(User):
    # Keep Django's user admin and add the memberships, so the platform admin gives roles where users are managed.
    BaseUserAdmin = type(admin.site.get_model_admin(User))
    admin.site.unregister(User)
else:  # pragma: no cover - only if contrib.auth's admin is not installed
    BaseUserAdmin = DjangoUserAdmin


class UserChangeForm(BaseUserAdmin.form):
    """Django's user form, refusing an e-mail address another account has (any case): people sign in with it."""

    def clean_email(self) -> str:
        email = self.cleaned_data.get("email", "")
        if email and User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise ValidationError(_("Another account has this e-mail address."), code="email_taken")
        return email


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    inlines = (*BaseUserAdmin.inlines, UserHubMembershipInline, UserProfileInline)

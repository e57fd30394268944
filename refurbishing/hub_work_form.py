"""The one form page the hub-work admin actions share (add to a batch, close it, send a transfer)."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse


def hub_work_form_page(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    title: str,
    form: forms.Form,
    submit_label: str,
    cancel_url: str,
    intro: str = "",
    listed: list | None = None,
    total: int = 0,
) -> TemplateResponse:
    opts = modeladmin.model._meta
    form.required_css_class = "required"
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "opts": opts,
        "form": form,
        "media": modeladmin.media + form.media,
        "submit_label": submit_label,
        "cancel_url": cancel_url,
        "listed": listed or [],
        "more_listed": max(total - len(listed or []), 0),
    }
    return TemplateResponse(request, "admin/refurbishing/hub_work_form.html", context)

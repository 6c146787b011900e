"""Form helpers the admin views that call services share."""

from django import forms
from django.core.exceptions import ValidationError


def form_add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: each field's errors at the field when the
    form has it, everything else at the top."""
    if hasattr(error, "error_dict"):
        for field_name, errors in error.error_dict.items():
            form.add_error(field_name if field_name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def form_page_context(model_admin, request, *, title, form: forms.Form, **extra) -> dict:
    """The context of an admin page showing one form, with the admin's header and sidebar."""
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "form": form,
        "media": model_admin.media + form.media,
        "has_view_permission": model_admin.has_view_permission(request),
        **extra,
    }

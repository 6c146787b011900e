"""`{{ value|contact_masked:request.user }}`: free text with its phones and e-mails masked unless
the user may see contacts whole (import refusals, previews)."""

from django import template

from crm.masking import mask_text, user_can_see_contact

register = template.Library()


@register.filter
def contact_masked(value: object, user) -> object:
    if value in (None, "") or user_can_see_contact(user):
        return value
    return mask_text(str(value))

"""The message templates that carry feedback links: "feedback_invitation" (a sending's or a
single customer's first message) and "feedback_reminder" (the reminder, once), by SMS and
e-mail, in English and Simplified Chinese. Idempotent: run it again and nothing changes; a
template a supervisor edited since is left as it is."""

from workflows.models.outbox import Channel

INVITATION = "feedback_invitation"
REMINDER = "feedback_reminder"
TEMPLATES = [
    # (code, channel, language, subject, body)
    (
        INVITATION,
        Channel.SMS,
        "en",
        "",
        "{{ customer.name }}, how did we do? 1 minute: {{ feedback_link }}",
    ),
    (
        INVITATION,
        Channel.SMS,
        "zh-hans",
        "",
        "{{ customer.name }}，请花1分钟评价我们的服务：{{ feedback_link }}",
    ),
    (
        INVITATION,
        Channel.EMAIL,
        "en",
        "{{ feedback_form }}",
        "Dear {{ customer.name }},\n\nWe would like to hear how we did. It takes about a "
        "minute:\n{{ feedback_link }}\n\nThe link is yours alone and works until "
        "{{ link_expires_on }}.\n\nThank you!",
    ),
    (
        INVITATION,
        Channel.EMAIL,
        "zh-hans",
        "{{ feedback_form }}",
        "{{ customer.name }}，您好！\n\n想听听您对我们服务的评价，大约需要一分钟：\n"
        "{{ feedback_link }}\n\n此链接仅供您本人使用，有效期至{{ link_expires_on }}。\n\n谢谢！",
    ),
    (
        REMINDER,
        Channel.SMS,
        "en",
        "",
        "{{ customer.name }}, a reminder: tell us how we did: {{ feedback_link }}",
    ),
    (
        REMINDER,
        Channel.SMS,
        "zh-hans",
        "",
        "{{ customer.name }}，温馨提醒：欢迎评价我们的服务：{{ feedback_link }}",
    ),
    (
        REMINDER,
        Channel.EMAIL,
        "en",
        "Reminder: {{ feedback_form }}",
        "Dear {{ customer.name }},\n\nA short reminder: your answers help us do better.\n"
        "{{ feedback_link }}\n\nThe link works until {{ link_expires_on }}.",
    ),
    (
        REMINDER,
        Channel.EMAIL,
        "zh-hans",
        "提醒：{{ feedback_form }}",
        "{{ customer.name }}，您好！\n\n温馨提醒：您的评价能帮助我们做得更好。\n"
        "{{ feedback_link }}\n\n链接有效期至{{ link_expires_on }}。",
    ),
]

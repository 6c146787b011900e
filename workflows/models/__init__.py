from workflows.models.campaigns import Campaign, CampaignMember
from workflows.models.feedback import (
    AdoptedSuggestion,
    AnswerTopic,
    DictionaryWord,
    ExperienceOfficer,
    FeedbackAnswer,
    FeedbackForm,
    FeedbackInvitation,
    FeedbackResponse,
    FeedbackSending,
    FeedbackTopic,
    FormQuestion,
    FormVersion,
)
from workflows.models.kpis import KpiSnapshot
from workflows.models.outbox import Message, MessageTemplate, SensitiveEvent
from workflows.models.sequences import CareSequence, CareStep, Enrollment
from workflows.models.tickets import (
    AgentProfile,
    BusinessCalendar,
    CalendarDay,
    RoutingRule,
    SlaPolicy,
    Ticket,
    TicketAttachment,
    TicketNote,
)
from workflows.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "AgentProfile",
    "BusinessCalendar",
    "CalendarDay",
    "RoutingRule",
    "SlaPolicy",
    "Ticket",
    "TicketAttachment",
    "TicketNote",
    "AdoptedSuggestion",
    "AnswerTopic",
    "Campaign",
    "CampaignMember",
    "CareSequence",
    "CareStep",
    "DictionaryWord",
    "Enrollment",
    "ExperienceOfficer",
    "FeedbackAnswer",
    "FeedbackForm",
    "FeedbackInvitation",
    "FeedbackResponse",
    "FeedbackSending",
    "FeedbackTopic",
    "FormQuestion",
    "FormVersion",
    "KpiSnapshot",
    "Message",
    "MessageTemplate",
    "SensitiveEvent",
    "WebhookDelivery",
    "WebhookEndpoint",
]

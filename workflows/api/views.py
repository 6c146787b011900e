"""API v1 of feedback forms: the published forms (read), the responses (a filtered list, scoped
like customers), and a submission for apps that embed a form.

Responses are scoped by crm's `customer_visibility_q`: an RM sees their own customers'
answers, a supervisor their teams', a user who sees every customer all of them and the
anonymous ones too. The submission goes through `response_submit`, like the public pages, in
the transaction of the caller's `Idempotency-Key` (loyalty.api.idempotency).
"""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.views import APIView

from config.api import NewestFirstCursorPagination
from crm.masking import user_can_see_contact
from crm.models import Customer
from crm.selectors import customer_get
from loyalty.api.idempotency import HEADER, idempotent
from workflows.api.filters import ResponseFilter
from workflows.api.serializers import (
    FormOutputSerializer,
    ResponseOutputSerializer,
    SubmitInputSerializer,
)
from workflows.feedback.selectors import (
    feedback_form_list,
    feedback_response_get,
    feedback_response_list,
)
from workflows.feedback.submission import FormClosed, response_submit

logger = logging.getLogger(__name__)

CONTACT_ERROR_KEYS = {"contact_name": "name", "contact_phone": "phone", "contact_email": "email"}


def _permission(codename: str) -> type[BasePermission]:
    class HasPermission(BasePermission):
        def has_permission(self, request, view) -> bool:
            return bool(request.user and request.user.has_perm(f"workflows.{codename}"))

    HasPermission.__name__ = f"Has_{codename}"
    return HasPermission


@extend_schema(tags=["feedback"])
class FormListView(ListAPIView):
    permission_classes = [IsAuthenticated, _permission("view_feedbackform")]
    serializer_class = FormOutputSerializer
    filter_backends: list = []

    def get_queryset(self):
        return feedback_form_list()

    @extend_schema(operation_id="feedback_forms_list")
    def get(self, request, *args, **kwargs):
        """Active, published forms, newest first, each with its current version's questions
        (both languages): what an app needs to draw the form and post its answers."""
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["feedback"])
class FormDetailView(RetrieveAPIView):
    permission_classes = [IsAuthenticated, _permission("view_feedbackform")]
    serializer_class = FormOutputSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return feedback_form_list()

    @extend_schema(
        operation_id="feedback_forms_retrieve",
        responses={200: FormOutputSerializer, 404: OpenApiResponse(description=_("No such form."))},
    )
    def get(self, request, *args, **kwargs):
        """One active, published form with its current version's questions."""
        return super().get(request, *args, **kwargs)


class NewestSubmittedFirstCursorPagination(NewestFirstCursorPagination):
    ordering = ("-submitted_at", "-id")


@extend_schema(tags=["feedback"])
class ResponseListView(ListAPIView):
    permission_classes = [IsAuthenticated, _permission("view_feedbackresponse")]
    serializer_class = ResponseOutputSerializer
    filterset_class = ResponseFilter
    pagination_class = NewestSubmittedFirstCursorPagination

    def get_queryset(self):
        return feedback_response_list(user=self.request.user)

    def get_serializer_context(self):
        show_contact = user_can_see_contact(self.request.user)
        return {**super().get_serializer_context(), "show_contact": show_contact}

    @extend_schema(operation_id="feedback_responses_list")
    def get(self, request, *args, **kwargs):
        """Answered forms the caller may see, newest first, cursor-paginated, each with its
        answers (free text with its topics and sentiment once read). Filters: form, service
        step, customer, submitted_from / submitted_before, nps_min / nps_max. Contact details
        of anonymous answers are masked unless the caller may see contacts."""
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["feedback"])
class ResponseSubmitView(APIView):
    permission_classes = [IsAuthenticated, _permission("add_feedbackresponse")]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="feedback_responses_submit",
        request=SubmitInputSerializer,
        parameters=[
            OpenApiParameter(
                HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description=_("Unique per answer (1 to 255 characters); a retry sends it again."),
            )
        ],
        responses={
            201: OpenApiResponse(ResponseOutputSerializer, _("Stored (or replayed: same key).")),
            400: OpenApiResponse(description=_("Invalid answers; nothing was stored.")),
            404: OpenApiResponse(description=_("No such active, published form.")),
            422: OpenApiResponse(description=_("The key was used for a different request.")),
        },
    )
    def post(self, request, slug: str):
        """Store a customer's answers to the form's current version, as the public page does.

        `{"answers": {"q12": 9, "q13": "2", "q14": ["1", "3"], "q15": "..."}, "customer": 42,
        "language": "zh-hans"}`. Answers are checked against the version's questions (required,
        NPS 0-10, CSAT 1-5, valid choices, text of at most 200 / 2000 characters); errors come
        back per question under `answers`. With `customer` (one the caller may see) the answer
        goes on the customer's timeline; without it the form must have an open link, and
        `contact` (name, phone, email) is kept when the form asks for it. Send an
        `Idempotency-Key` header: a retry with the same key and body gets the same answer and
        stores nothing more.
        """
        data = SubmitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        form = feedback_form_list().filter(slug=slug).first()
        if form is None:
            raise NotFound
        version = form.current_version
        version.form = form
        values = data.validated_data
        customer = None
        if values.get("customer") is not None:
            try:
                customer = customer_get(user=request.user, customer_id=values["customer"])
            except Customer.DoesNotExist:
                raise serializers.ValidationError(
                    {"customer": [_("No such customer, or not yours to see.")]},
                    code="unknown_customer",
                ) from None
        elif not form.open_link:
            raise serializers.ValidationError(
                {"customer": [_("This form takes answers from known customers only.")]},
                code="customer_required",
            )

        def effect():
            try:
                response = response_submit(
                    version=version,
                    data=values["answers"],
                    customer=customer,
                    language=values.get("language", ""),
                    contact=values.get("contact"),
                )
            except DjangoValidationError as error:
                raise serializers.ValidationError(_errors_nested(error)) from error
            except FormClosed:
                raise NotFound from None
            logger.info("API feedback stored: response=%s user=%s", response.pk, request.user.pk)
            response = feedback_response_get(response_id=response.pk)
            body = ResponseOutputSerializer(response, context={"show_contact": True}).data
            return status.HTTP_201_CREATED, body

        return idempotent(request, payload=dict(values), effect=effect)


def _errors_nested(error: DjangoValidationError) -> dict:
    """response_submit's errors: question ids under "answers", contact fields under
    "contact"."""
    answers, contact = {}, {}
    for key, messages in error.message_dict.items():
        if key in CONTACT_ERROR_KEYS:
            contact[CONTACT_ERROR_KEYS[key]] = messages
        else:
            answers[key] = messages
    nested: dict = {}
    if answers:
        nested["answers"] = answers
    if contact:
        nested["contact"] = contact
    return nested

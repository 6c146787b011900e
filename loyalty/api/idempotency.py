"""Idempotency keys for the API's writes (RELIABILITY.md A1-A3).

A write sends an `Idempotency-Key` header. The first request with a key runs its effect and
stores the answer with the key in the same transaction; the same key with the same request
replays that answer (header `Idempotent-Replayed: true`) and changes nothing; the same key with
a different request is refused with 422. A request that fails (400, 404, 409) stores nothing:
sending it again runs it again.

The claim is the unique (user, key) index, inserted in the effect's transaction: a concurrent
request with the same key waits on it, fails, rolls its own effect back and replays the winner's.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from loyalty.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
Effect = Callable[[], tuple[int, dict[str, Any]]]


class KeyReusedError(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("This idempotency key was already used for a different request.")
    default_code = "idempotency_key_reused"


def request_key(request) -> str:
    """The request's idempotency key; a 400 when it is missing or unusable."""
    key = request.headers.get(HEADER, "").strip()
    if not key or len(key) > 255:
        raise ValidationError(
            {HEADER: [_("Send an Idempotency-Key header of 1 to 255 characters.")]},
            code="idempotency_key_required",
        )
    return key


def fingerprint(scope: str, payload: Any) -> str:
    """A digest of what the request asks for: its scope (method and path) and its body."""
    body = json.dumps(payload, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(f"{scope}\n{body}".encode()).hexdigest()


def idempotent(request, *, payload: Any, effect: Effect) -> Response:
    """Run `effect` once per (user, key); it returns (status code, JSON-able body)."""
    key = request_key(request)
    digest = fingerprint(f"{request.method} {request.path}", payload)
    stored = IdempotencyKey.objects.filter(user=request.user, key=key).first()
    if stored is not None:
        return _replay(stored, digest)
    try:
        with transaction.atomic():
            status_code, body = effect()
            IdempotencyKey.objects.create(
                user=request.user,
                key=key,
                fingerprint=digest,
                status_code=status_code,
                response=json.loads(json.dumps(body, cls=DjangoJSONEncoder)),
            )
    except IntegrityError:
        stored = IdempotencyKey.objects.filter(user=request.user, key=key).first()
        if stored is None:
            raise
        return _replay(stored, digest)
    return Response(body, status=status_code)


def _replay(stored: IdempotencyKey, digest: str) -> Response:
    if stored.fingerprint != digest:
        raise KeyReusedError()
    return Response(stored.response, status=stored.status_code, headers={REPLAYED_HEADER: "true"})

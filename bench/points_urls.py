"""The project's URLs plus the bench's bare endpoint: one INSERT behind the same knox token
authentication and JSON parsing as the earn API, so that the comparison isolates the earn
logic (idempotency, the ledger's posting) from the framework's cost."""

from django.db import connection
from django.urls import path
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as project_urlpatterns

BARE_TABLE = "bench_points_bare"


class BareInsertView(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request, customer_id: int):
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {BARE_TABLE} (customer_id, points, key) VALUES (%s, %s, %s)"  # noqa: S608
                " RETURNING id",
                [
                    customer_id,
                    int(request.data.get("points", 0)),
                    request.headers["Idempotency-Key"],
                ],
            )
            (row_id,) = cursor.fetchone()
        return Response({"id": row_id}, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("bench/bare/<int:customer_id>/", BareInsertView.as_view()),
    *project_urlpatterns,
]

from django.db import DatabaseError, connection
from django.http import JsonResponse


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as e:
        return JsonResponse({"status": "unavailable", "database": str(e)}, status=503)
    return JsonResponse({"status": "ok", "database": connection.vendor})

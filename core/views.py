from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import run_checks


@never_cache
@require_GET
def healthz(request):
    """JSON of every dependency's state: 200 when all are ok, 503 naming what is not."""
    checks = run_checks()
    failing = sorted(name for name, state in checks.items() if state != "ok")
    payload = {"status": "ok" if not failing else "error", "checks": checks, "failing": failing}
    return JsonResponse(payload, status=503 if failing else 200)

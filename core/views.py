from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import is_advisory, run_checks


@never_cache
@require_GET
def healthz(request):
    """JSON of every dependency's state: 200 when all are ok, 503 naming what is not.

    Advisory checks (a replica lagging or down) are listed under "degraded" and keep the 200.
    """
    checks = run_checks()
    not_ok = sorted(name for name, state in checks.items() if state != "ok")
    failing = [name for name in not_ok if not is_advisory(name)]
    degraded = [name for name in not_ok if is_advisory(name)]
    payload = {
        "status": "ok" if not failing else "error",
        "checks": checks,
        "failing": failing,
        "degraded": degraded,
    }
    return JsonResponse(payload, status=503 if failing else 200)

from django.http import HttpRequest, HttpResponse


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and compose health checks; also the benchmarks' trivial baseline view."""
    return HttpResponse(b"ok", content_type="text/plain")

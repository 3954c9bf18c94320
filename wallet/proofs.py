"""Streaming a top-up request's proof image to someone already allowed to see it (the customer
in the portal, finance in the admin). Never a public URL under MEDIA."""

import mimetypes

from django.http import FileResponse, Http404

from wallet.models import TopUpRequest


def proof_response(topup: TopUpRequest) -> FileResponse:
    """The request's proof image, streamed, never cached, never sniffed as HTML."""
    if not topup.proof:
        raise Http404("No proof image")
    try:
        handle = topup.proof.open("rb")
    except FileNotFoundError as exc:
        raise Http404("Proof image missing") from exc
    content_type = mimetypes.guess_type(topup.proof.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response

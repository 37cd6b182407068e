"""The links inside messages, outside ``/api/v1``: no bearer token, a signed token in the path.

- ``GET /t/o/<token>``: an email's open pixel, a 1x1 transparent GIF, never cached;
- ``GET /t/c/<token>``: a tracked link: records the click, redirects to the URL signed in the token
  (never to one from the query string: no open redirect);
- ``GET /t/u/<token>``: the unsubscribe page; ``POST`` (the page's button, or the mail client's
  RFC 8058 one-click ``List-Unsubscribe-Post``) withdraws the consent for the link's channel.

A token that is not ours, or altered, is a 404 problem.
"""

from __future__ import annotations

import base64

from flask import Blueprint, Response, redirect, render_template_string
from werkzeug.wrappers import Response as BaseResponse

from app import db
from app.clock import now
from app.scheduling import runtime
from loyalty.program.operations import get_settings
from notifications.messages import tracking

blp = Blueprint("tracking", __name__, url_prefix="/t")

#: The smallest transparent GIF: 1x1, one transparent colour.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
CHANNEL_NAMES = {"email": "emails", "sms": "text messages", "push": "push notifications"}

UNSUBSCRIBE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>{{ brand }}: unsubscribe</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 3em auto; padding: 0 1em">
{% if done %}
<p>You will no longer receive {{ what }} from {{ brand }}. You can change this at any time in your account.</p>
{% else %}
<p>Stop receiving {{ what }} from {{ brand }}?</p>
<form method="post"><button type="submit">Unsubscribe</button></form>
<p>Messages about your account and your orders will still reach you.</p>
{% endif %}
</body></html>
"""


@blp.get("/o/<token>")
def opened(token: str) -> Response:
    tracking.open_link(db.session(), runtime().links, token, now=now())
    return Response(PIXEL, mimetype="image/gif", headers={"Cache-Control": "no-store, max-age=0"})


@blp.get("/c/<token>")
def clicked(token: str) -> BaseResponse:
    url = tracking.click_link(db.session(), runtime().links, token, now=now())
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.get("/u/<token>")
def unsubscribe_page(token: str) -> Response:
    session = db.session()
    target = tracking.read_unsubscribe_link(session, runtime().links, token)
    return _page(target.channel, done=False)


@blp.post("/u/<token>")
def unsubscribe(token: str) -> Response:
    target = tracking.unsubscribe(db.session(), runtime().links, token, now=now())
    return _page(target.channel, done=True)


def _page(channel: str, *, done: bool) -> Response:
    brand = get_settings(db.session()).name
    html = render_template_string(UNSUBSCRIBE_PAGE, brand=brand, what=CHANNEL_NAMES[channel], done=done)
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})

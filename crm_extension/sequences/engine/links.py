"""Click tracking: links in sequence emails point to the app's guest endpoint with a signed token that names
the target URL and the Communication; the endpoint records the click and redirects only when the token is
intact and unexpired.

Token = ``base64url(payload) "." base64url(HMAC-SHA256(secret, "crm-sequence-link.v1." + payload part))``,
payload = JSON ``[url, communication, expires_at]``. Only canonical unpadded base64url is accepted, so no two
token strings verify to the same click.

``rewrite_links`` changes only the ``href`` value of ``<a>`` tags that point to http(s) URLs (never
mailto:, tel:, anchors, placeholders or unsubscribe links); every other character of the HTML is kept as it
was. ``html.parser`` finds the tags, so links inside comments, scripts and styles are left alone.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from html import escape, unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

TRACKED_SCHEMES = frozenset({"http", "https"})
_SIGNING_CONTEXT = b"crm-sequence-link.v1."
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
# One attribute of a start tag, the way html.parser reads it: name, then an optional "=" and value.
_ATTRIBUTE = re.compile(r"""((?<=['"\s/])[^\s/>][^\s/=>]*)(\s*=+\s*('[^']*'|"[^"]*"|(?!['"])[^>\s]*))?""")

__all__ = ["is_trackable_url", "rewrite_links", "sign_link", "verify_link"]


def is_trackable_url(url: str) -> bool:
	"""An absolute http(s) URL with a host, and not an unsubscribe link (the host handles that one)."""
	try:
		parts = urlsplit(str(url).strip())
	except ValueError:
		return False
	return parts.scheme.lower() in TRACKED_SCHEMES and bool(parts.netloc) and "unsubscribe" not in url.lower()


def sign_link(url: str, communication: str, secret: bytes, expires_at: int) -> str:
	"""A URL-safe token for one link of one Communication, valid until ``expires_at`` (Unix seconds)."""
	_check_secret(secret)
	if not _is_http_url(url):
		raise ValueError("Only http and https links can be tracked")
	payload = json.dumps([url, str(communication), int(expires_at)], separators=(",", ":"))
	body = _encode(payload.encode("utf-8"))
	return f"{body}.{_encode(_signature(body, secret))}"


def verify_link(token: str, secret: bytes, now: int) -> tuple[str, str] | None:
	"""``(url, communication)`` of an intact token that has not expired; None for anything else (tampered,
	expired, malformed, signed with another secret, or naming a non-http URL)."""
	_check_secret(secret)
	body, signature = _split(token)
	if body is None or not hmac.compare_digest(signature, _signature(body, secret)):
		return None
	payload = _payload(body)
	if payload is None:
		return None
	url, communication, expires_at = payload
	if now >= expires_at or not _is_http_url(url):
		return None
	return url, communication


def rewrite_links(
	html: str, make_href: Callable[[str], str], skip: Callable[[str], bool] | None = None
) -> str:
	"""``html`` with each trackable link's href replaced by ``make_href(url)`` (the URL as the browser
	reads it, entities decoded); ``skip(url)`` True keeps a link as it is."""
	pieces, position = [], 0
	for start, end, url, quote in _href_values(html):
		if not is_trackable_url(url) or (skip and skip(url)):
			continue
		pieces += [html[position:start], quote, escape(make_href(url), quote=True), quote]
		position = end
	return "".join([*pieces, html[position:]])


def _href_values(html: str) -> list[tuple[int, int, str, str]]:
	"""(start, end, decoded url, quote) of the value of each ``<a>`` tag's first href, in document order."""
	found = []
	for offset, raw in _AnchorTags.find(html):
		for match in _ATTRIBUTE.finditer(raw, 2):
			if match.group(1).lower() != "href":
				continue
			if match.group(3) is not None:
				value = match.group(3)
				quote = value[0] if value[:1] in ("'", '"') else '"'
				text = value[1:-1] if value[:1] in ("'", '"') else value
				found.append((offset + match.start(3), offset + match.end(3), unescape(text).strip(), quote))
			break
	return found


class _AnchorTags(HTMLParser):
	"""Collects the raw text and offset of every ``<a ...>`` start tag the way a browser's tokenizer sees them."""

	def __init__(self, html: str):
		super().__init__(convert_charrefs=False)
		self.html = html
		self.line_starts = [0] + [match.end() for match in re.finditer("\n", html)]
		self.tags: list[tuple[int, str]] = []

	@classmethod
	def find(cls, html: str) -> list[tuple[int, str]]:
		parser = cls(html)
		parser.feed(html)
		parser.close()
		return parser.tags

	def handle_starttag(self, tag, attrs):
		if tag != "a":
			return
		raw = self.get_starttag_text() or ""
		line, column = self.getpos()
		offset = self.line_starts[line - 1] + column
		if self.html.startswith(raw, offset):
			self.tags.append((offset, raw))


def _is_http_url(url) -> bool:
	if not isinstance(url, str):
		return False
	try:
		parts = urlsplit(url.strip())
	except ValueError:
		return False
	return parts.scheme.lower() in TRACKED_SCHEMES and bool(parts.netloc)


def _check_secret(secret: bytes) -> None:
	if not isinstance(secret, bytes | bytearray) or not secret:
		raise ValueError("A link signing secret is required")


def _signature(body: str, secret: bytes) -> bytes:
	return hmac.new(bytes(secret), _SIGNING_CONTEXT + body.encode("ascii"), hashlib.sha256).digest()


def _encode(raw: bytes) -> str:
	return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes | None:
	"""Strict base64url: only the alphabet, no padding, and the canonical spelling of the bytes."""
	if not _BASE64URL.fullmatch(text):
		return None
	try:
		raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
	except (binascii.Error, ValueError):
		return None
	return raw if _encode(raw) == text else None


def _split(token) -> tuple[str | None, bytes]:
	if not isinstance(token, str) or token.count(".") != 1:
		return None, b""
	body, signature_text = token.split(".")
	signature = _decode(signature_text)
	if signature is None or _decode(body) is None:
		return None, b""
	return body, signature


def _payload(body: str) -> tuple[str, str, int] | None:
	try:
		payload = json.loads(_decode(body).decode("utf-8"))
	except (ValueError, UnicodeDecodeError, AttributeError):
		return None
	if not isinstance(payload, list) or len(payload) != 3:
		return None
	url, communication, expires_at = payload
	if not (isinstance(url, str) and isinstance(communication, str) and type(expires_at) is int):
		return None
	return url, communication, expires_at

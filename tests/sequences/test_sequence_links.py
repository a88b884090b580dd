import base64
import hashlib
import hmac
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_extension.sequences.engine.links import is_trackable_url, rewrite_links, sign_link, verify_link

SECRET = b"site-secret-0123456789"
NOW = 1_717_400_000
LATER = NOW + 30 * 86400
URL = "https://example.com/pricing?plan=pro&ref=seq#top"


def b64(raw: bytes) -> str:
	return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forge(payload, secret=SECRET) -> str:
	"""A token built from the documented format, signed with ``secret``: what an attacker who knew the
	secret (or the adapter after a bug) could produce."""
	body = b64(payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode())
	signature = hmac.new(secret, b"crm-sequence-link.v1." + body.encode(), hashlib.sha256).digest()
	return f"{body}.{b64(signature)}"


# sign_link / verify_link


def test_a_signed_link_verifies_to_its_url_and_communication_until_it_expires():
	token = sign_link(URL, "COMM-0001", SECRET, LATER)
	assert verify_link(token, SECRET, NOW) == (URL, "COMM-0001")
	assert verify_link(token, SECRET, LATER - 1) == (URL, "COMM-0001")


def test_a_link_is_expired_from_its_expiry_second_on():
	token = sign_link(URL, "COMM-0001", SECRET, LATER)
	assert verify_link(token, SECRET, LATER) is None
	assert verify_link(token, SECRET, LATER + 86400) is None


def test_the_token_is_url_safe_text():
	assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", sign_link(URL, "COMM-1", SECRET, LATER))


def test_the_format_is_the_documented_one():
	assert sign_link(URL, "COMM-1", SECRET, LATER) == forge([URL, "COMM-1", LATER])


def test_a_link_signed_with_another_secret_is_refused():
	assert verify_link(sign_link(URL, "COMM-1", b"other-secret", LATER), SECRET, NOW) is None


def test_a_tampered_payload_is_refused_even_with_the_original_signature():
	token = sign_link(URL, "COMM-1", SECRET, LATER)
	_, signature = token.split(".")
	for payload in (
		[URL, "COMM-2", LATER],
		["https://evil.example/", "COMM-1", LATER],
		[URL, "COMM-1", LATER * 2],
	):
		assert verify_link(f"{b64(json.dumps(payload).encode())}.{signature}", SECRET, NOW) is None


@given(st.data())
def test_changing_any_one_character_of_a_token_makes_it_invalid(data):
	token = sign_link(URL, "COMM-1", SECRET, LATER)
	position = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
	alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ "
	replacement = data.draw(st.sampled_from(alphabet).filter(lambda c: c != token[position]))
	tampered = token[:position] + replacement + token[position + 1 :]
	assert verify_link(tampered, SECRET, NOW) is None


def test_a_signature_differing_only_in_unused_base64_bits_is_refused():
	token = sign_link(URL, "COMM-1", SECRET, LATER)
	body, signature = token.split(".")
	# 32 bytes take 43 characters: the last one carries 2 unused bits; a sibling decodes to the same bytes.
	sibling = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	index = sibling.index(signature[-1])
	other = sibling[index ^ 1]
	assert base64.urlsafe_b64decode(signature[:-1] + other + "=") == base64.urlsafe_b64decode(signature + "=")
	assert verify_link(f"{body}.{signature[:-1]}{other}", SECRET, NOW) is None


@pytest.mark.parametrize(
	"token",
	[
		"",
		".",
		"abc",
		"a.b.c",
		"@@@.###",
		"YWJj.",
		".YWJj",
		"YWJj==.YWJj",
		"ünïcode.tökén",
		None,
		b"bytes.token",
		42,
	],
)
def test_a_malformed_token_is_refused_without_an_error(token):
	assert verify_link(token, SECRET, NOW) is None


@pytest.mark.parametrize(
	"payload",
	[
		b"not json",
		b"\xff\xfe",
		{"url": URL},
		[URL, "COMM-1"],
		[URL, "COMM-1", LATER, "extra"],
		[URL, 42, LATER],
		[None, "COMM-1", LATER],
		[URL, "COMM-1", str(LATER)],
		[URL, "COMM-1", float(LATER)],
		[URL, "COMM-1", True],
	],
)
def test_a_correctly_signed_but_malformed_payload_is_refused(payload):
	assert verify_link(forge(payload), SECRET, NOW) is None


@pytest.mark.parametrize(
	"url",
	[
		"javascript:alert(1)",
		"mailto:a@example.com",
		"ftp://example.com/f",
		"//evil.example",
		"/relative",
		"http://",
	],
)
def test_only_http_links_are_signed_and_a_signed_non_http_url_never_redirects(url):
	with pytest.raises(ValueError):
		sign_link(url, "COMM-1", SECRET, LATER)
	assert verify_link(forge([url, "COMM-1", LATER]), SECRET, NOW) is None


@pytest.mark.parametrize("secret", [b"", "text-secret", None])
def test_a_missing_or_textual_secret_is_refused(secret):
	with pytest.raises(ValueError):
		sign_link(URL, "COMM-1", secret, LATER)
	with pytest.raises(ValueError):
		verify_link("a.b", secret, NOW)


def test_unicode_urls_and_communication_names_survive_the_round_trip():
	url = "https://example.ir/محصولات?q=قیمت&x=1"
	assert verify_link(sign_link(url, "ارتباط-۱", SECRET, LATER), SECRET, NOW) == (url, "ارتباط-۱")


# rewrite_links


def tracked(url: str) -> str:
	return "https://crm.example/t?u=" + url


def test_http_and_https_links_are_rewritten_with_the_decoded_url_and_re_escaped():
	html = "<a href=\"https://example.com/?a=1&amp;b=2\">x</a> <a href='HTTP://Example.com'>y</a>"
	assert rewrite_links(html, tracked) == (
		'<a href="https://crm.example/t?u=https://example.com/?a=1&amp;b=2">x</a> '
		"<a href='https://crm.example/t?u=HTTP://Example.com'>y</a>"
	)


def test_make_href_receives_the_url_as_the_browser_reads_it():
	seen = []
	rewrite_links(
		'<a href="https://e.com/?a=1&amp;b=&quot;2&quot;">x</a>', lambda url: seen.append(url) or url
	)
	assert seen == ['https://e.com/?a=1&b="2"']


@pytest.mark.parametrize(
	"link",
	[
		'<a href="mailto:sales@example.com">mail</a>',
		'<a href="tel:+982112345678">call</a>',
		'<a href="#pricing">jump</a>',
		'<a href="/relative/page">rel</a>',
		'<a href="javascript:void(0)">js</a>',
		'<a href="https://example.com/unsubscribe?email=a@b.c">stop</a>',
		'<a href="https://example.com/api/method/frappe.email.queue.Unsubscribe?x=1">stop</a>',
		'<a href="<!--unsubscribe_url-->" target="_blank">Unsubscribe</a>',
		"<a name=top>anchor without href</a>",
		'<a href="">empty</a>',
	],
)
def test_links_that_are_not_tracked_are_left_byte_identical(link):
	html = f"<p>before</p>{link}<p>after</p>"
	assert rewrite_links(html, tracked) == html


@pytest.mark.parametrize(
	"html",
	[
		'<!-- <a href="https://example.com">old</a> -->',
		"<script>var s = '<a href=\"https://example.com\">x</a>';</script>",
		'<style>a[href="https://example.com"] { color: red }</style>',
		'<link rel="stylesheet" href="https://example.com/a.css">',
		'<area href="https://example.com" alt="x"><abbr title="https://example.com">x</abbr>',
		'<img src="https://example.com/logo.png" alt="&amp; logo">',
	],
)
def test_urls_outside_a_tags_or_inside_comments_scripts_and_styles_are_left_alone(html):
	assert rewrite_links(html, tracked) == html


def test_only_the_href_value_changes_and_every_other_byte_of_the_tag_stays():
	html = '<A  class="btn"\r\n   HREF = "https://example.com"  data-href="https://x.example" title="a href=q" >Go</A>'
	assert rewrite_links(html, tracked) == html.replace(
		'"https://example.com"', '"https://crm.example/t?u=https://example.com"'
	)


def test_whitespace_around_an_href_is_dropped_as_browsers_do():
	seen = []
	result = rewrite_links(
		'<a href="\n  https://example.com/x \t">x</a>', lambda url: seen.append(url) or "T"
	)
	assert (seen, result) == (["https://example.com/x"], '<a href="T">x</a>')


def test_an_unquoted_href_is_quoted_when_rewritten():
	assert rewrite_links("<a href=https://example.com/x>go</a>", tracked) == (
		'<a href="https://crm.example/t?u=https://example.com/x">go</a>'
	)


def test_only_the_first_href_of_a_tag_is_the_link_browsers_follow():
	html = '<a href="https://first.example" href="https://second.example">x</a>'
	assert rewrite_links(html, tracked) == (
		'<a href="https://crm.example/t?u=https://first.example" href="https://second.example">x</a>'
	)


def test_skip_keeps_links_the_caller_does_not_want_tracked():
	html = '<a href="https://crm.example/app/lead">own</a><a href="https://example.com">other</a>'
	result = rewrite_links(html, tracked, skip=lambda url: url.startswith("https://crm.example/"))
	assert (
		result
		== '<a href="https://crm.example/app/lead">own</a><a href="https://crm.example/t?u=https://example.com">other</a>'
	)


def test_a_make_href_result_with_quotes_cannot_break_out_of_the_attribute():
	result = rewrite_links('<a href="https://example.com">x</a>', lambda url: 'https://t/?u="><script>')
	assert result == '<a href="https://t/?u=&quot;&gt;&lt;script&gt;">x</a>'


# Fragments of an email and what each becomes; a document made of any of them in any order must become the
# same fragments rewritten, every other byte identical.
FRAGMENTS = [
	("<p>سلام {{ first_name }}،</p>\r\n", "<p>سلام {{ first_name }}،</p>\r\n"),
	("Price &lt; 100 &amp; more &#x263A; ", "Price &lt; 100 &amp; more &#x263A; "),
	(
		'<a href="https://example.com/a">A</a>',
		'<a href="https://crm.example/t?u=https://example.com/a">A</a>',
	),
	("<a href='mailto:x@example.com'>m</a>", "<a href='mailto:x@example.com'>m</a>"),
	("<!-- <a href='https://hidden.example'> -->", "<!-- <a href='https://hidden.example'> -->"),
	("<br/><BR><hr />\n\t", "<br/><BR><hr />\n\t"),
	('<div style="color:red">a > b</div>', '<div style="color:red">a > b</div>'),
	("<a href=#top>top</a>", "<a href=#top>top</a>"),
	(
		'<a\n  href="https://example.com/?x=1&amp;y=2" target=_blank>',
		'<a\n  href="https://crm.example/t?u=https://example.com/?x=1&amp;y=2" target=_blank>',
	),
	("</a>", "</a>"),
	('<img src="https://example.com/p.gif" />', '<img src="https://example.com/p.gif" />'),
	("<![CDATA[ <a href='https://cdata.example'> ]]>", "<![CDATA[ <a href='https://cdata.example'> ]]>"),
]


@given(st.lists(st.sampled_from(range(len(FRAGMENTS))), max_size=25))
def test_html_outside_the_rewritten_hrefs_is_byte_identical(indexes):
	html = "".join(FRAGMENTS[i][0] for i in indexes)
	assert rewrite_links(html, tracked) == "".join(FRAGMENTS[i][1] for i in indexes)


def test_is_trackable_url_accepts_only_absolute_http_links_that_are_not_unsubscribe_links():
	assert is_trackable_url("https://example.com") and is_trackable_url(" http://example.com/x ")
	assert not any(
		is_trackable_url(url)
		for url in ("mailto:a@b", "tel:1", "#a", "/x", "https://e.com/Unsubscribe", "http://[::1", "https://")
	)

"""What a user sees on a desk screen, judged: markup or template debris in the visible text, a page or form
section wider than the phone, text squeezed into a one-word column, and (for a Persian user) the app's own
English strings left untranslated.

``measure(page)`` runs visible_checks.js in the page and returns plain data; ``problems(...)`` judges that data
and is pure, so each rule is unit tested (tests/browser/test_visible.py) without a browser, and proven on a
real rendering when Chromium and Playwright are available."""

import re
from pathlib import Path

MEASURE_JS = (Path(__file__).with_name("visible_checks.js")).read_text()

# Visible text that betrays a template or an escaping bug.
DEBRIS = re.compile(
	r"<span|<div|&lt;|&gt;|&(?:amp|quot|apos|nbsp|#\d+);|\{\{|\}\}|\bundefined\b|\bnull\b|\bNaN\b"
	r"|Invalid date|\[object Object\]"
)
OVERFLOW_TOLERANCE_PX = 4
NARROW_WIDTH_PX = 60
NARROW_MAX_LINES = 3  # a text on this many lines or more in a box narrower than NARROW_WIDTH_PX
PHONE_WIDTH_PX = 500
LATIN = re.compile(r"[A-Za-z]")


def measure(page, root: str | None = None) -> dict:
	return page.evaluate(MEASURE_JS, {"root": root})


def problems(report: dict, persian_strings: dict[str, str] | None = None) -> list[str]:
	"""Every problem a user would see in one measured screen. persian_strings (source -> translation) turns
	on the untranslated-string check, for a screen opened by a Persian user."""
	found = debris_problems(report["text"]) + narrow_text_problems(report["boxes"])
	if report["viewport_width"] <= PHONE_WIDTH_PX:
		found += overflow_problems(report["overflows"])
	if persian_strings is not None:
		found += untranslated_problems(report["own_texts"], persian_strings)
	return found


def debris_problems(text: str) -> list[str]:
	found, seen = [], set()
	for match in DEBRIS.finditer(text):
		start, end = max(match.start() - 40, 0), min(match.end() + 40, len(text))
		excerpt = " ".join(text[start:end].split())
		if excerpt not in seen:
			seen.add(excerpt)
			found.append(f"markup or template debris {match.group()!r} in visible text: …{excerpt}…")
	return found[:5]


def overflow_problems(overflows: list[dict]) -> list[str]:
	return [
		f"horizontal overflow of {box['where']}: {box['scrollWidth']} px of content in {box['clientWidth']} px"
		for box in overflows
		if box["scrollWidth"] > box["clientWidth"] + OVERFLOW_TOLERANCE_PX
	]


def narrow_text_problems(boxes: list[dict]) -> list[str]:
	return [
		f"text squeezed into a {box['width']} px column over {box['lines']} lines ({box['where']}): {box['text']!r}"
		for box in boxes
		if box["width"] < NARROW_WIDTH_PX and box["lines"] >= NARROW_MAX_LINES
	]


def untranslated_problems(own_texts: list[dict], persian_strings: dict[str, str]) -> list[str]:
	"""The app's own strings shown in English to a Persian user (a translation exists but was not used)."""
	found, seen = [], set()
	for item in own_texts:
		text = item["text"].rstrip(":").strip()
		translation = persian_strings.get(text)
		if translation and len(text) > 2 and LATIN.search(text) and text not in seen:
			seen.add(text)
			found.append(f"English string shown to a Persian user ({item['where']}): {text!r}")
	return found

"""The visible-screen checks of the browser check: each rule on measured data, then on a real rendering of a
deliberately broken timeline row in Chromium (skipped, with the reason, where Chromium or Playwright is
missing)."""

import shutil

import pytest

from tests.browser.visible import measure, problems

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


def report(text="", boxes=(), own_texts=(), overflows=(), viewport_width=390):
	return {
		"text": text,
		"boxes": list(boxes),
		"own_texts": list(own_texts),
		"overflows": list(overflows),
		"viewport_width": viewport_width,
	}


@pytest.mark.parametrize(
	"shown",
	[
		'Sent the catalogue <span class="frappe-timestamp" data-timestamp="2024-06-24">2 years ago</span>',
		"Asked for a price &lt;b&gt;now&lt;/b&gt;",
		"Check the customer&apos;s credit",
		"Tom &amp; Jerry",
		"Hello {{ doc.lead_name }}",
		"Outcome: undefined",
		"Score null",
		"Lifetime value NaN",
		"Invalid date",
		"[object Object]",
	],
)
def test_markup_or_template_debris_in_visible_text_is_reported(shown):
	assert problems(report(text=f"All Activity\n{shown}\nLoad More"))


def test_ordinary_words_are_not_debris():
	assert not problems(report(text="Annulled nullable NaNa Undefinedness — 2 years ago · Phone · Outbound"))


def test_a_page_wider_than_the_phone_is_reported_and_a_few_pixels_are_tolerated():
	wide = {"where": "page", "scrollWidth": 520, "clientWidth": 390}
	almost = {"where": "div.form-section", "scrollWidth": 393, "clientWidth": 390}

	assert problems(report(overflows=[wide, almost])) == [
		"horizontal overflow of page: 520 px of content in 390 px"
	]


def test_overflow_is_judged_at_phone_size_only():
	assert not problems(
		report(overflows=[{"where": "page", "scrollWidth": 1500, "clientWidth": 1366}], viewport_width=1366)
	)


def test_a_text_in_a_one_word_column_is_reported_and_a_short_label_is_not():
	column = {"text": "Browser check", "width": 20, "lines": 9, "where": "div.small"}
	badge = {"text": "Hot lead", "width": 52, "lines": 1, "where": "span.badge"}
	wide = {"text": "a long paragraph", "width": 300, "lines": 6, "where": "p"}

	found = problems(report(boxes=[column, badge, wide]))

	assert len(found) == 1 and "20 px column over 9 lines" in found[0]


def test_the_apps_english_strings_shown_to_a_persian_user_are_reported():
	strings = {"Log Activity": "ثبت فعالیت", "Load More": "بیشتر"}
	shown = [
		{"text": "Log Activity", "where": "button"},
		{"text": "ثبت فعالیت", "where": "button"},
		{"text": "Browser Check Lead", "where": "h3"},  # the user's data, not the app's string
	]

	found = problems(report(own_texts=shown), persian_strings=strings)

	assert found == ["English string shown to a Persian user (button): 'Log Activity'"]


def test_untranslated_strings_are_checked_only_for_a_persian_user():
	assert not problems(report(own_texts=[{"text": "Log Activity", "where": "button"}]))


BROKEN_ROW = """
<div id="body"><div class="page-container"><div class="form-section" style="width:100%">
  <div class="crm-activity-item" style="display:flex">
    <div style="flex:1">Sent the catalogue</div>
    <div class="small" style="width:20px;overflow-wrap:anywhere">Browser check from the phone</div>
    <div class="small">&lt;span class="frappe-timestamp"&gt;2 years ago&lt;/span&gt;</div>
  </div>
  <div style="width:600px">a table too wide for the phone</div>
</div></div></div>
"""

GOOD_ROW = """
<div id="body"><div class="page-container"><div class="form-section">
  <div class="crm-activity-item" style="display:flex;gap:8px">
    <div style="width:24px">✉</div>
    <div style="flex:1;min-width:0"><div>Sent the catalogue</div>
      <div class="small" title="24-06-2024 01:03">2 years ago · WhatsApp · Outbound</div></div>
  </div>
</div></div></div>
"""


@pytest.fixture(scope="module")
def phone_page():
	sync_api = pytest.importorskip(
		"playwright.sync_api", reason="Playwright is not installed (pip '.[browser]')"
	)
	if not shutil.which(CHROMIUM):
		pytest.skip(f"Chromium is not installed at {CHROMIUM}")
	with sync_api.sync_playwright() as playwright:
		browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
		page = browser.new_page(viewport={"width": 390, "height": 844})
		yield page
		browser.close()


def test_a_deliberately_broken_row_rendered_in_chromium_is_reported(phone_page):
	phone_page.set_content(BROKEN_ROW)

	found = problems(measure(phone_page))

	assert any("debris '<span'" in problem for problem in found), found
	assert any("px column over" in problem and "Browser check" in problem for problem in found), found
	assert any(problem.startswith("horizontal overflow of") for problem in found), found


def test_a_well_drawn_row_rendered_in_chromium_passes(phone_page):
	phone_page.set_content(GOOD_ROW)

	assert problems(measure(phone_page)) == []

"""Logs into the desk at phone and desktop size, opens the app's screens, and fails on a JavaScript error, a
missing element, or what a user would see wrong (tests/browser/visible.py: markup or template debris in the
text, a page or form section wider than the phone, a one-word column, and for a Persian user the app's own
English strings). Opens them as the check's manager user, as a plain Sales User (the screens a salesperson
opens) and as a Persian (fa, right-to-left) user, and saves screenshots.
Usage: desk_check.py <base-url> <fixtures.json> <screenshot-dir>; CRM_BROWSER_SCREENS=name,name limits the
screens (for a quick look)."""

import json
import os
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.browser.visible import measure, problems
from tests.core.translatable import app_strings, translations

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
CHROMIUM_ARGS = [
	"--no-sandbox",
	"--disable-gpu",
	"--disable-background-networking",
	"--disable-dev-shm-usage",
]


# Screens whose checked element sits on a form tab other than the first: the tab to open.
TABS = {
	"lead_timeline": "All Activity",
	"customer_value": "Customer Value",
	"opportunity_playbook": "Playbook",
}


def screens(
	lead: str, customer: str = "", opportunity: str = ""
) -> list[tuple[str, str, str | tuple[str, ...]]]:
	"""(name, path, selector that must be visible, or several that all must be; the screenshot shows the
	last)."""
	return [
		("workspace", "/app/crm-hub", ".shortcut-widget-box"),
		("lead_timeline", f"/app/lead/{lead}", ".crm-activity-item"),
		("activity_list", "/app/crm-activity", ".list-row-container"),
		("activity_form", "/app/crm-activity/new", "[data-fieldname='channel'] input"),
		("channel_list", "/app/crm-channel", ".list-row-container"),
		("activity_by_channel", "/app/query-report/Activity by Channel", ".dt-scrollable"),
		("lead_score", f"/app/lead/{lead}", ".crm-score-factors"),
		("lead_scoring_rules", "/app/lead-scoring-rule", ".list-row-container"),
		(
			"lead_scoring_settings",
			"/app/lead-scoring-settings",
			# The trained model's charts: the lift chart's bars and the calibration plot's lines (scrolled to).
			(
				"[data-fieldname='grade_a_score'] input",
				"[data-fieldname='quality_html'] rect.bar:not([height='0'])",
				"[data-fieldname='quality_html'] .line-graph-path",
			),
		),
		(
			"customer_value",
			f"/app/customer/{customer}",
			".crm-customer-value-chart rect.bar:not([height='0'])",
		),
		("value_cards", "/app/crm-hub", ".number-widget-box .widget-title"),
		("rfm_segments", "/app/query-report/RFM Segments", ".chart-container rect.bar:not([height='0'])"),
		("customer_value_at_risk", "/app/query-report/Customer Value At Risk", ".dt-scrollable .dt-row"),
		("customer_value_settings", "/app/customer-value-settings", "[data-fieldname='window_days'] input"),
		("opportunity_playbook", f"/app/opportunity/{opportunity}", ".crm-playbook-guide .crm-playbook-next"),
		(
			"sales_playbook",
			"/app/sales-playbook/Default Sales Playbook",
			"[data-fieldname='steps'] .grid-row",
		),
		("closing_technique_list", "/app/closing-technique", ".list-row-container"),
		("buyer_persona", "/app/buyer-persona/Analytical", "[data-fieldname='traits'] textarea"),
		("playbook_effectiveness", "/app/query-report/Playbook Effectiveness", ".chart-container rect.bar"),
		("playbook_pipeline", "/app/query-report/Playbook Pipeline", ".dt-scrollable .dt-row"),
		# the Lead's sequences at the top of its form (enrollments, or the Enroll button alone)
		("lead_sequences", f"/app/lead/{lead}", ".crm-sequences-section .crm-sequence-enroll"),
		# "Due today": the salesperson's open sequence tasks (the filter shows even when nothing is due)
		("sequence_tasks_due", "/app/query-report/Sequence Tasks Due", "[data-fieldname='due_by'] input"),
	]


# Screens saved whole, not just the viewport: the timeline's rows of every kind.
FULL_PAGE_SCREENS = ("lead_timeline",)
# The screens a salesperson opens, checked again as a user with the Sales User role alone.
SALES_USER_SCREENS = (
	"workspace",
	"lead_timeline",
	"activity_list",
	"activity_form",
	"lead_score",
	"lead_sequences",
	"sequence_tasks_due",
)


def passes(fixtures: dict) -> list[tuple[str, str, str, tuple[str, ...] | None]]:
	"""(label, user, password, screens or None for all) of each user the check logs in as."""
	found = [("", fixtures["user"], fixtures["password"], None)]
	if fixtures.get("sales_user"):
		found.append(("sales", fixtures["sales_user"], fixtures["password"], SALES_USER_SCREENS))
	if fixtures.get("fa_user"):
		found.append(("fa", fixtures["fa_user"], fixtures["password"], None))
	return found


def persian_strings() -> dict[str, str]:
	persian = translations("fa")
	return {text: persian[text] for text in app_strings() if text in persian}


def check(base: str, fixtures: dict, out: Path) -> list[str]:
	"""Problems of every screen at every size, for every user. A screen that fails is opened once more and
	only a second failure counts: Frappe's desk now and then loses a race while loading its own templates on
	a cold page (``frappe.template.compile(...) is not a function``). Retried screens are printed, not
	hidden."""
	failures = []
	only = {name for name in os.environ.get("CRM_BROWSER_SCREENS", "").split(",") if name}
	with sync_playwright() as playwright:
		browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
		for label, user, password, names in passes(fixtures):
			strings = persian_strings() if label == "fa" else None
			for size, viewport in VIEWPORTS.items():
				page = browser.new_page(viewport=viewport)
				errors: list[str] = []
				page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
				login(page, base, user, password)
				tag = f"{size}{' ' + label if label else ''}"
				for name, path, selectors in screens(
					fixtures["lead"], fixtures.get("customer", ""), fixtures.get("opportunity", "")
				):
					if (names and name not in names) or (only and name not in only):
						continue
					found = check_screen(page, errors, base + path, name, selectors, strings)
					if found:
						print("RETRIED", *(f"{tag} {problem}" for problem in found), sep="\n  ")
						found = check_screen(page, errors, base + path, name, selectors, strings)
					failures.extend(f"{tag} {problem}" for problem in found)
					shot = out / f"{name}_{size}{'_' + label if label else ''}.png"
					page.screenshot(path=str(shot), full_page=name in FULL_PAGE_SCREENS)
				page.close()
		browser.close()
	return failures


def check_screen(
	page,
	errors: list[str],
	url: str,
	name: str,
	selectors: str | tuple[str, ...],
	strings: dict[str, str] | None = None,
) -> list[str]:
	errors.clear()
	problems_found = []
	page.goto(url)
	selector = f"tab {TABS.get(name)}"
	try:
		if name in TABS:
			settle(page)
			tab = (strings or {}).get(TABS[name], TABS[name])  # a Persian user sees the tab's translation
			page.get_by_role("tab", name=tab).click()
		for selector in (selectors,) if isinstance(selectors, str) else selectors:
			expect(page.locator(selector).first).to_be_visible(timeout=20_000)
		scroll_to(page.locator(selector).first)
	except Exception as error:
		problems_found.append(f"{name}: {selector} not visible ({error.__class__.__name__})")
	settle(page)
	page.wait_for_timeout(500)
	problems_found += [f"{name}: {problem}" for problem in problems(measure(page), strings)]
	return problems_found + [f"{name}: JavaScript error: {error}" for error in errors]


def settle(page):
	"""Let the form finish its first requests: a tab clicked while they run can be switched back."""
	try:
		page.wait_for_load_state("networkidle", timeout=5_000)
	except Exception:
		pass


def scroll_to(locator):
	"""Bring the checked element into the screenshot; lists that re-render may detach it, which is fine."""
	try:
		locator.scroll_into_view_if_needed(timeout=5_000)
	except Exception:
		pass


def login(page, base: str, user: str, password: str):
	page.goto(base + "/login")
	page.fill("#login_email", user)
	page.fill("#login_password", password)
	page.click(".btn-login")
	page.wait_for_url("**/app**", timeout=30_000)


if __name__ == "__main__":
	base_url, fixtures_path, screenshot_dir = sys.argv[1:4]
	out = Path(screenshot_dir)
	out.mkdir(parents=True, exist_ok=True)
	failures = check(base_url, json.loads(Path(fixtures_path).read_text()), out)
	for problem in failures:
		print("FAIL", problem)
	print(f"browser check: {len(failures)} problem(s) across {len(VIEWPORTS)} viewports")
	sys.exit(1 if failures else 0)

"""A salesperson's journeys through the desk, at phone and desktop size: each step must work and each screen
must pass the visible checks (visible.py); a journey that fails a step stops there and fails the run. Usage:
journeys.py <base-url> <fixtures.json> <screenshot-dir>  (the fixtures of crm_extension.tests.browser_fixtures);
CRM_JOURNEYS=name,name runs only those. Screenshots: journey_<name>_<step>_<size>.png.

1. morning (Sales User): CRM Hub -> the "Grade A Leads" card -> the list -> the top Lead (grade A) -> "Why this
   score" -> Log Activity: a WhatsApp reply (channel pre-set to the Lead's preferred channel) -> the reply is the
   timeline's top row, inbound. The score moves in a job queued after commit (crm_extension.lead_scoring.jobs
   via refresh_queue); the journey runs that queued job worker-free (browser_fixtures.run_queued_lead_refresh,
   through ``bench execute``; when a worker took it first, it polls the Lead through the REST API for 60 s), then
   asserts through the REST API that the score rose and, after a reload, that the form shows that new score
   and grade A.
2. deal (Sales User): an Opportunity -> Playbook tab: the next step -> "Complete Step" with an outcome -> the
   next step moved on -> the recommended closing technique and the buyer persona's tips -> the sales stage moved
   forward: refused, the message names the open mandatory step, and the stage stays.
3. account (Sales User): a Customer -> "Customer Value" tab: tier, predicted lifetime value, probability alive,
   the purchase chart -> the "Customer Value At Risk" report, its lapsed customer listed.
4. manager (Sales Manager): Activity by Channel, Playbook Effectiveness, Lead Scoring Settings with the
   calibration plot and the lift chart.
5. morning_fa: journey 1 as the Persian user: also the page is right to left and no English string of the app
   is shown (the visible checks' Persian rule).
6. sequence (Sales User): a Lead whose sequence already made its first call task shows the enrollment at
   step 2 -> another Lead: "Enroll in Sequence" from the form -> its section shows step 1 -> "Sequence Tasks
   Due" lists the call task -> the "Sequence Performance" report lists the sequence."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.browser.desk_check import CHROMIUM_ARGS, VIEWPORTS, login, persian_strings, scroll_to, settle
from tests.browser.visible import measure, problems
from tests.core.translatable import translations

REPLY = "Replied on WhatsApp: send the contract"
SCORE_WAIT_SECONDS = 60
LAPSED_CUSTOMER = "Browser Check Lapsed Customer"
WAIT = 20_000


class Journey:
	"""One journey at one size: its page, where its screenshots go, what the visible checks found."""

	def __init__(self, page, base: str, out: Path, name: str, size: str, fixtures: dict, strings=None):
		self.page, self.base, self.out, self.name, self.size = page, base, out, name, size
		self.fixtures, self.strings, self.found = fixtures, strings, []
		self.persian = translations("fa") if strings is not None else {}

	def t(self, text: str) -> str:
		"""The text as this journey's user reads it (Persian for the Persian user)."""
		return self.persian.get(text, text)

	def look(self, step: str, full_page: bool = False, then=None):
		"""Screenshot and visible checks of the screen as it is now; ``then(page)`` runs once it settled."""
		settle(self.page)
		self.page.wait_for_timeout(300)
		if then:
			then(self.page)
			self.page.wait_for_timeout(300)
		self.page.screenshot(path=str(self.shot(step)), full_page=full_page)
		report = measure(self.page)
		self.found += [f"{self.size} {self.name}/{step}: {p}" for p in problems(report, self.strings)]

	def shot(self, step: str) -> Path:
		return self.out / f"journey_{self.name}_{step}_{self.size}.png"

	def open_tab(self, label: str):
		settle(self.page)
		self.page.get_by_role("tab", name=self.t(label)).click()

	def api(self, method: str, **params) -> dict:
		# through the page's own fetch: the browser resolves any *.localhost site itself, while Playwright's
		# request context asks the system resolver, which knows only the names in /etc/hosts
		result = self.page.evaluate(
			"""async ([method, params]) => {
				const response = await fetch(`/api/method/${method}?` + new URLSearchParams(params),
					{ headers: { Accept: "application/json" } });
				return { status: response.status, body: await response.json().catch(() => null) };
			}""",
			[method, {key: str(value) for key, value in params.items()}],
		)
		assert result["status"] == 200, f"{method}: HTTP {result['status']}"
		return result["body"]["message"]


def morning(j: Journey):
	page = j.page
	page.goto(j.base + "/app/crm-hub")
	if j.strings is not None:
		assert page.evaluate("document.documentElement.dir") == "rtl", "the desk is not right to left"
	card = page.locator(".number-widget-box", has_text=j.t("Grade A Leads")).first
	expect(card).to_be_visible(timeout=WAIT)
	expect(card.locator(".number")).to_have_text(re.compile(r"^\s*[1-9۱-۹]"), timeout=WAIT)
	j.look("hub")
	card.click()
	page.wait_for_url("**/app/lead?**", timeout=WAIT)
	assert "lead_grade=A" in page.url, f"the card opened {page.url}, not the grade A Leads"
	row = page.locator(".list-row-container .list-row .level-left a.ellipsis").first
	expect(row).to_be_visible(timeout=WAIT)
	j.look("grade_a_list")
	row.click()
	page.wait_for_url("**/app/lead/**", timeout=WAIT)
	lead = page.url.rstrip("/").split("/")[-1].split("?")[0]
	expect_grade_a(j)
	expect(page.locator(".crm-score-factors").first).to_be_visible(timeout=WAIT)
	j.look("why_this_score", then=score_section_to_top)  # after the form's own scroll to its top
	before = j.api("crm_extension.api.lead_scoring.explain", lead=lead)

	j.open_tab("All Activity")
	page.click(".crm-activity-log")
	dialog = page.locator(".modal.show")
	expect(dialog.locator("[data-fieldname=channel] input")).to_be_visible(timeout=10_000)
	page.wait_for_function("frappe.ui.open_dialogs.length > 0", timeout=10_000)
	channel = page.evaluate("frappe.ui.open_dialogs.at(-1).get_value('channel')")
	assert channel == "WhatsApp", f"Log Activity opened on {channel!r}, not the Lead's preferred WhatsApp"
	dialog.locator("[data-fieldname=direction] select").select_option("Inbound")
	dialog.locator("[data-fieldname=subject] input").fill(REPLY)
	j.look("log_reply")
	dialog.locator(".btn-modal-primary").click()
	expect(dialog).to_be_hidden(timeout=WAIT)
	top = page.locator(".crm-activity-item").first
	expect(top).to_contain_text(REPLY, timeout=15_000)
	expect(top.locator(".crm-activity-direction.inbound")).to_have_count(1)
	j.look("logged_reply")

	after = rescored(j, lead, before)
	assert after["lead_score"] > before["lead_score"], (
		f"score {before['lead_score']} -> {after['lead_score']}"
	)
	page.reload()
	score = page.locator(".frappe-control[data-fieldname=lead_score] .control-value").first
	expect(score).to_be_visible(timeout=WAIT)
	shown = page.evaluate("cur_frm.doc.lead_score")
	assert shown == after["lead_score"], f"the form shows score {shown}, the Lead has {after['lead_score']}"
	assert abs(shown_number(score.inner_text()) - after["lead_score"]) < 0.1, score.inner_text()
	expect_grade_a(j)
	j.look("score_updated", then=score_section_to_top)  # after the form's own scroll to its top


def score_section_to_top(page):
	"""The Lead Score section (grade, score, probability, then "why") at the top of the screen."""
	page.evaluate(
		# the form's own field: the Lead list left in the page has a lead_grade filter control too
		"cur_frm.fields_dict.lead_grade.wrapper.scrollIntoView({block: 'start'}); window.scrollBy(0, -70)"
	)


def expect_grade_a(j: Journey):
	"""The Lead's grade as its form shows it (the Lead Score section of the first tab)."""
	grade = j.page.locator(".frappe-control[data-fieldname=lead_grade] .control-value").first
	expect(grade).to_be_visible(timeout=WAIT)
	expect(grade).to_have_text(re.compile(rf"^\s*({re.escape(j.t('A'))}|A)\s*$"))


def rescored(j: Journey, lead: str, before: dict) -> dict:
	"""The Lead's explanation once its queued scoring job ran: run worker-free, or waited for."""
	ran = run_queued_jobs(j.fixtures, lead)
	if "lead_score" not in ran:  # a worker took the job: wait for it, bounded
		deadline = time.monotonic() + SCORE_WAIT_SECONDS
		while time.monotonic() < deadline:
			if (
				j.api("crm_extension.api.lead_scoring.explain", lead=lead)["updated_on"]
				!= before["updated_on"]
			):
				break
			time.sleep(2)
		else:
			raise AssertionError(f"no scoring job was queued for {lead} and its score did not change")
	return j.api("crm_extension.api.lead_scoring.explain", lead=lead)


def run_queued_jobs(fixtures: dict, lead: str) -> list[str]:
	command = os.environ.get("CRM_SITE_EXECUTE")
	command = command.split() if command else [str(REPO / "scripts/frappe.sh"), "--site", fixtures["site"]]
	method = "crm_extension.tests.browser_fixtures.run_queued_lead_refresh"
	result = subprocess.run(
		[*command, "execute", method, "--kwargs", json.dumps({"lead": lead})],
		capture_output=True,
		text=True,
		timeout=120,
	)
	lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
	assert result.returncode == 0 and lines, f"running the queued jobs failed: {result.stderr[-500:]}"
	return json.loads(lines[0])["ran"]


def shown_number(text: str) -> float:
	"""A number as the desk shows it (one decimal, maybe Persian digits, maybe grouped)."""
	text = text.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹٫", "0123456789."))
	return float(re.sub(r"[^\d.]", "", text))


def deal(j: Journey):
	page = j.page
	opportunity = j.fixtures["journey_opportunities"][j.size]
	page.goto(f"{j.base}/app/opportunity/{opportunity}")
	j.open_tab("Playbook")
	next_step = page.locator(".crm-playbook-next")
	expect(next_step).to_be_visible(timeout=WAIT)
	first = next_step.locator("div[style*='font-weight']").inner_text()
	scroll_to(next_step)
	j.look("next_step")
	next_step.locator(".crm-playbook-complete").click()
	dialog = page.locator(".modal.show")
	expect(dialog.locator("[data-fieldname=outcome] select")).to_be_visible(timeout=10_000)
	dialog.locator("[data-fieldname=outcome] select").select_option("Completed")
	dialog.locator("[data-fieldname=notes] textarea").fill("Sent; they answered the same day")
	j.look("complete_step")
	dialog.locator(".btn-modal-primary").click()
	expect(dialog).to_be_hidden(timeout=WAIT)
	expect(next_step).not_to_contain_text(first, timeout=WAIT)
	second = next_step.locator("div[style*='font-weight']").inner_text()
	steps = j.api("crm_extension.api.playbook.guide", opportunity=opportunity)["steps"]
	done = [step for step in steps if step["title"] == first]
	assert done and done[0]["status"] == "Done", f"{first!r} is not done: {done}"
	technique = page.locator(".crm-playbook-technique")
	expect(technique).to_be_visible(timeout=WAIT)
	expect(page.locator(".crm-playbook-persona")).to_contain_text("Driver")
	scroll_to(technique)
	j.look("closing_technique")

	page.locator(".form-tabs .nav-link").first.click()
	stage = page.locator(".frappe-control[data-fieldname=sales_stage] input")
	expect(stage).to_be_visible(timeout=WAIT)
	stage.fill("Qualification")
	stage.press("Tab")  # the Link field takes a value that exists when it loses focus
	page.wait_for_function("cur_frm.doc.sales_stage === 'Qualification'", timeout=10_000)
	page.keyboard.press("Control+s")
	message = page.locator(".modal.show .msgprint")
	expect(message).to_contain_text("Complete these mandatory steps", timeout=WAIT)
	expect(message).to_contain_text(second)
	j.look("stage_refused")
	stored = j.api(
		"frappe.client.get_value", doctype="Opportunity", filters=opportunity, fieldname="sales_stage"
	)
	assert stored["sales_stage"] == "Prospecting", f"the stage moved to {stored['sales_stage']}"


def account(j: Journey):
	page = j.page
	page.goto(f"{j.base}/app/customer/{j.fixtures['journey_customer']}")
	j.open_tab("Customer Value")
	chart = page.locator(".crm-customer-value-chart rect.bar:not([height='0'])").first
	expect(chart).to_be_visible(timeout=WAIT)
	expect(page.locator(".crm-customer-value .indicator-pill")).to_be_visible()
	for field in ("value_tier", "predicted_clv", "probability_alive"):
		value = page.locator(f".frappe-control[data-fieldname={field}] .control-value").first
		expect(value).to_be_visible()
		expect(value).to_have_text(re.compile(r"\d|\w"))
	j.look("customer_value")
	scroll_to(chart)
	j.look("purchase_chart")
	page.goto(j.base + "/app/query-report/Customer Value At Risk")
	expect(page.locator(".dt-scrollable .dt-row").first).to_be_visible(timeout=WAIT)
	expect(page.locator(".dt-scrollable")).to_contain_text(LAPSED_CUSTOMER, timeout=WAIT)
	j.look("value_at_risk")


def manager(j: Journey):
	page = j.page
	page.goto(j.base + "/app/query-report/Activity by Channel")
	expect(page.locator(".dt-scrollable .dt-row").first).to_be_visible(timeout=WAIT)
	j.look("activity_by_channel")
	page.goto(j.base + "/app/query-report/Playbook Effectiveness")
	expect(page.locator(".chart-container rect.bar").first).to_be_visible(timeout=WAIT)
	j.look("playbook_effectiveness")
	page.goto(j.base + "/app/lead-scoring-settings")
	# a Sales Manager reads the settings (no inputs) and is offered no job the server would refuse him
	expect(page.locator(".frappe-control[data-fieldname='grade_a_score']")).to_be_visible(timeout=WAIT)
	settle(page)
	for button in ("Train Model Now", "Rescore All Leads"):
		expect(page.get_by_role("button", name=button)).to_have_count(0)
	j.look("lead_scoring_settings")
	lift = page.locator("[data-fieldname='quality_html'] rect.bar:not([height='0'])").first
	expect(lift).to_be_visible(timeout=WAIT)
	expect(page.locator("[data-fieldname='quality_html'] .line-graph-path").first).to_be_visible(timeout=WAIT)
	scroll_to(page.locator("[data-fieldname='quality_html']").first)
	j.look("model_charts")


def sequence(j: Journey):
	page, title = j.page, j.fixtures["sequence"]
	page.goto(f"{j.base}/app/lead/{j.fixtures['sequence_lead']}")
	row = page.locator(f".crm-sequences-section .crm-sequence-row[data-sequence='{title}']")
	expect(row).to_be_visible(timeout=WAIT)
	expect(row).to_contain_text("Step 2 of 2")
	j.look("enrolled_lead")

	page.goto(f"{j.base}/app/lead/{j.fixtures['enroll_leads'][j.size]}")
	enroll = page.locator(".crm-sequences-section .crm-sequence-enroll")
	expect(enroll).to_be_visible(timeout=WAIT)
	expect(page.locator(".crm-sequences-section .crm-sequence-row")).to_have_count(0)
	enroll.click()
	dialog = page.locator(".modal.show")
	field = dialog.locator("[data-fieldname=sequence] input")
	expect(field).to_be_visible(timeout=10_000)
	field.fill(title)
	page.get_by_role("option", name=title).first.click()
	j.look("enroll_dialog")
	dialog.locator(".btn-modal-primary").click()
	expect(dialog).to_be_hidden(timeout=WAIT)
	row = page.locator(f".crm-sequences-section .crm-sequence-row[data-sequence='{title}']")
	expect(row).to_be_visible(timeout=WAIT)
	expect(row).to_contain_text("Step 1 of 2")
	j.look("enrolled")

	page.goto(j.base + "/app/query-report/Sequence Tasks Due")
	expect(page.locator(".dt-scrollable")).to_contain_text("Browser Sequence Lead", timeout=WAIT)
	expect(page.locator(".dt-scrollable")).to_contain_text("Ask about the budget")
	j.look("due_today")
	page.goto(j.base + "/app/query-report/Sequence Performance")
	expect(page.locator(".dt-scrollable")).to_contain_text(title, timeout=WAIT)
	j.look("performance")


# (name, the fixtures' user key, journey, Persian)
JOURNEYS = (
	("morning", "sales_user", morning, False),
	("deal", "sales_user", deal, False),
	("account", "sales_user", account, False),
	("manager", "sales_manager", manager, False),
	("morning_fa", "fa_user", morning, True),
	("sequence", "sales_user", sequence, False),
)


def run(base: str, fixtures: dict, out: Path) -> tuple[list[str], list[str]]:
	"""(failures, passed journeys as 'name size')."""
	failures, passed = [], []
	only = {name for name in os.environ.get("CRM_JOURNEYS", "").split(",") if name}
	strings = persian_strings()
	with sync_playwright() as playwright:
		browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
		for name, user, steps, persian in JOURNEYS:
			if only and name not in only:
				continue
			for size, viewport in VIEWPORTS.items():
				found = run_one(
					browser, base, fixtures, out, name, user, steps, size, viewport, persian, strings
				)
				failures += found
				print(f"{'FAIL' if found else 'PASS'} journey {name} at {size}", flush=True)
				passed += [] if found else [f"{name} {size}"]
		browser.close()
	return failures, passed


def summary(error: Exception) -> str:
	"""The error's first line, and for a Playwright expectation the locator it waited for."""
	lines = str(error).splitlines() or [""]
	waited = [line.strip() for line in lines if "waiting for" in line]
	return " ".join([lines[0], *waited[:1]])


def run_one(browser, base, fixtures, out, name, user, steps, size, viewport, persian, strings) -> list[str]:
	page = browser.new_page(viewport=viewport)
	errors: list[str] = []
	page.on("pageerror", lambda error: errors.append(f"{error} {(error.stack or '').splitlines()[1:2]}"))
	journey = Journey(page, base, out, name, size, fixtures, strings if persian else None)
	failures = []
	try:
		login(page, base, fixtures[user], fixtures["password"])
		steps(journey)
	except Exception as error:
		page.screenshot(path=str(journey.shot("failed")))
		failures.append(f"{size} {name}: {error.__class__.__name__}: {summary(error)}")
	failures += journey.found + [f"{size} {name}: JavaScript error: {error}" for error in errors]
	page.close()
	return failures


if __name__ == "__main__":
	base_url, fixtures_path, screenshot_dir = sys.argv[1:4]
	out = Path(screenshot_dir)
	out.mkdir(parents=True, exist_ok=True)
	failures, passed = run(base_url, json.loads(Path(fixtures_path).read_text()), out)
	for failure in failures:
		print("FAIL", failure)
	print(f"journeys: {len(passed)} passed ({', '.join(passed)}), {len(failures)} problem(s)")
	sys.exit(1 if failures else 0)

"""Screenshots of the demo site as a Sales User, at desktop and phone size: the Lead list with grades, a
Customer's value tier and purchase chart, an open Opportunity's playbook steps, the CRM Hub workspace.

Usage (the demo running, scripts/demo.sh): .venv/bin/python scripts/demo_screenshots.py [lang] [out-dir]
Saves <out-dir>/demo_<screen>_<desktop|phone>.png (default docs/screenshots) and prints the files."""

import json
import os
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parents[1]
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
CHROMIUM_ARGS = [
	"--no-sandbox",
	"--disable-gpu",
	"--disable-background-networking",
	"--disable-dev-shm-usage",
]
PASSWORD = "demo"


def showcase(site: str, lang: str) -> dict:
	"""The records to open, from the site (crm_extension.demo.showcase)."""
	command = [
		str(REPO / "scripts/frappe.sh"),
		"--site",
		site,
		"execute",
		"crm_extension.demo.showcase.showcase",
	]
	output = subprocess.run(
		[*command, "--kwargs", json.dumps({"lang": lang})],
		check=True,
		capture_output=True,
		text=True,
	).stdout
	return json.loads(output.strip().splitlines()[-1])


def screens(records: dict) -> list[tuple[str, str, str | None, str]]:
	"""(name, path, tab to open, selector to wait for)."""
	return [
		(
			"lead_list",
			"/app/lead?status=Opportunity",  # the Leads being worked: their grades differ
			None,
			".list-row-container",
		),
		(
			"customer_value",
			f"/app/customer/{records['customer']}",
			"Customer Value",
			".crm-customer-value-chart svg",
		),
		(
			"opportunity_playbook",
			f"/app/opportunity/{records['opportunity']}",
			"Playbook",
			".crm-playbook-guide",
		),
		("crm_hub", "/app/crm-hub", None, ".number-widget-box .widget-title"),
	]


def take(base: str, records: dict, out: Path) -> list[Path]:
	saved = []
	with sync_playwright() as playwright:
		browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
		for size, viewport in VIEWPORTS.items():
			page = browser.new_page(viewport=viewport)
			login(page, base, records["user"])
			for name, path, tab, selector in screens(records):
				page.goto(base + path)
				if tab:
					page.get_by_role("tab", name=tab).click()
				expect(page.locator(selector).first).to_be_visible(timeout=30_000)
				if tab:
					page.locator(selector).first.scroll_into_view_if_needed()
				page.wait_for_timeout(1500)  # charts and number cards finish drawing
				target = out / f"demo_{name}_{size}.png"
				page.screenshot(path=str(target))
				saved.append(target)
			page.close()
		browser.close()
	return saved


def login(page, base: str, user: str):
	page.goto(base + "/login")
	page.fill("#login_email", user)
	page.fill("#login_password", PASSWORD)
	page.click(".btn-login")
	page.wait_for_url("**/app**", timeout=30_000)


if __name__ == "__main__":
	lang = sys.argv[1] if len(sys.argv) > 1 else "en"
	out = Path(sys.argv[2]) if len(sys.argv) > 2 else REPO / "docs/screenshots"
	out.mkdir(parents=True, exist_ok=True)
	site = os.environ.get("CRM_DEMO_SITE", "demo.localhost")
	base = f"http://{site}:{os.environ.get('CRM_DEMO_PORT', '8000')}"
	for path in take(base, showcase(site, lang), out):
		print(path)

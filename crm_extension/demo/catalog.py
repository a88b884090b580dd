"""What the company sells: an Item Group, stock Items with a selling price, and their stock, received
with a valuation rate (Material Receipts) so every sale has a cost and a margin."""

from datetime import date

import frappe

from crm_extension.demo.profiles import Profile
from crm_extension.demo.texts import ITEM_GROUP, ITEMS

PRICE_LIST = "Standard Selling"


def ensure_catalog(profile: Profile) -> list[str]:
	group = _item_group(profile)
	codes = []
	for code, name_en, name_fa, cost, price in ITEMS:
		if not frappe.db.exists("Item", code):
			frappe.get_doc(
				{
					"doctype": "Item",
					"item_code": code,
					"item_name": name_fa if profile.lang == "fa" else name_en,
					"item_group": group,
					"stock_uom": "Nos",
					"is_stock_item": 1,
					"valuation_rate": cost * profile.price_factor,
					"item_defaults": [{"company": profile.company, "default_warehouse": warehouse(profile)}],
				}
			).insert(ignore_permissions=True)
		_price(code, price * profile.price_factor, profile)
		codes.append(code)
	return codes


def _item_group(profile: Profile) -> str:
	name = ITEM_GROUP[profile.lang]
	if not frappe.db.exists("Item Group", name):
		frappe.get_doc(
			{"doctype": "Item Group", "item_group_name": name, "parent_item_group": "All Item Groups"}
		).insert(ignore_permissions=True)
	return name


def _price(code: str, rate: float, profile: Profile):
	filters = {"item_code": code, "price_list": PRICE_LIST, "currency": profile.currency}
	if not frappe.db.exists("Item Price", filters):
		frappe.get_doc({"doctype": "Item Price", **filters, "price_list_rate": rate}).insert(
			ignore_permissions=True
		)


def warehouse(profile: Profile) -> str:
	return frappe.db.get_value("Warehouse", {"company": profile.company, "warehouse_name": "Stores"}) or (
		frappe.db.get_value("Warehouse", {"company": profile.company, "is_group": 0})
	)


def receive_stock(profile: Profile, on: date, quantities: dict[str, int], cost_factor: float) -> str:
	"""A submitted Material Receipt of these quantities at the catalogue's cost times ``cost_factor``."""
	costs = {code: cost for code, _en, _fa, cost, _price in ITEMS}
	entry = frappe.get_doc(
		{
			"doctype": "Stock Entry",
			"stock_entry_type": "Material Receipt",
			"company": profile.company,
			"posting_date": on,
			"posting_time": "08:00:00",
			"set_posting_time": 1,
			"items": [
				{
					"item_code": code,
					"qty": qty,
					"t_warehouse": warehouse(profile),
					"basic_rate": round(costs[code] * cost_factor * profile.price_factor, 2),
					"allow_zero_valuation_rate": 0,
				}
				for code, qty in sorted(quantities.items())
				if qty
			],
		}
	)
	entry.insert(ignore_permissions=True)
	entry.submit()
	return entry.name

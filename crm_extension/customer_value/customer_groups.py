"""Customer Groups from value tiers, written in the open and given back.

A tier that names a Customer Group moves its customers into it (so pricing rules by customer group apply).
Each move is an ordinary change of the Customer as far as the host can tell: ``modified`` and
``modified_by`` are set and a Version row records the old and new group (both set-based, a statement per
thousand customers). The customer's own group is kept in the hidden ``crm_original_customer_group``, the
group the app chose in ``crm_synced_customer_group``; a customer goes back to its own group when it leaves
the synced tiers, when its tier stops naming the group (or is deleted), and when the app is uninstalled.
A group an administrator chose by hand after the move (the customer is no longer in the group the app set)
is theirs: it is kept, and becomes the customer's own group if the customer is moved again.
"""

import json
from typing import NamedTuple

import frappe
from frappe import _
from frappe.utils import now_datetime

from crm_extension.bulk_sql import insert_rows, update_rows

ORIGINAL = "crm_original_customer_group"
SYNCED = "crm_synced_customer_group"


class Move(NamedTuple):
	customer: str
	old_group: str | None
	new_group: str | None
	original: str | None  # the customer's own group while the app holds it in another, else None
	synced: str | None  # the group the app put the customer in, else None


def sync_customer_groups(recompute_id: str):
	"""After a recompute copied the run's tiers to the Customer: customers of a tier that names a group
	move into it, those of the run whose tier names none go back to their own group."""
	run = {"run": recompute_id}
	into_tier_groups = frappe.db.sql(
		f"""SELECT customer.name, customer.customer_group, tier.sync_customer_group,
			IF(IFNULL(customer.`{SYNCED}`, '') != '' AND customer.customer_group <=> customer.`{SYNCED}`,
				customer.`{ORIGINAL}`, customer.customer_group),
			tier.sync_customer_group
		FROM `tabCustomer` customer
		JOIN `tabCustomer Value Snapshot` snapshot ON snapshot.customer = customer.name
		JOIN `tabCustomer Value Tier` tier ON tier.name = snapshot.value_tier
		WHERE snapshot.recompute_id = %(run)s AND IFNULL(tier.sync_customer_group, '') != ''
			AND NOT customer.customer_group <=> tier.sync_customer_group""",
		run,
	)
	back = frappe.db.sql(
		f"""SELECT {_MOVE_BACK}
		FROM `tabCustomer` customer
		JOIN `tabCustomer Value Snapshot` snapshot ON snapshot.customer = customer.name
		LEFT JOIN `tabCustomer Value Tier` tier ON tier.name = snapshot.value_tier
		WHERE snapshot.recompute_id = %(run)s AND IFNULL(customer.`{SYNCED}`, '') != ''
			AND IFNULL(tier.sync_customer_group, '') = ''""",
		run,
	)
	apply_moves([Move(*row) for row in (*into_tier_groups, *back)])


def restore_customer_groups(tier: str | None = None, synced_group: str | None = None):
	"""Every customer the app moved back to its own group, or only those of ``tier`` it moved into
	``synced_group`` (when the tier stops naming that group or is deleted)."""
	condition = f"IFNULL(customer.`{SYNCED}`, '') != ''"
	if tier:
		condition = f"customer.value_tier = %(tier)s AND customer.`{SYNCED}` = %(group)s"
	rows = frappe.db.sql(
		f"SELECT {_MOVE_BACK} FROM `tabCustomer` customer WHERE {condition}",
		{"tier": tier, "group": synced_group},
	)
	apply_moves([Move(*row) for row in rows])


# Back to the own group, unless the customer is no longer in the group the app put it in.
_MOVE_BACK = f"""customer.name, customer.customer_group,
	IF(customer.customer_group <=> customer.`{SYNCED}`, customer.`{ORIGINAL}`, customer.customer_group),
	NULL, NULL"""


def apply_moves(moves: list[Move]):
	if not moves:
		return
	now, user = now_datetime(), frappe.session.user
	fields = ("name", "customer_group", ORIGINAL, SYNCED)
	moved = [move for move in moves if move.new_group != move.old_group]
	kept = [move for move in moves if move.new_group == move.old_group]  # only the app's record is cleared
	update_rows(
		"Customer", fields, [_customer_row(move) for move in moved], {"modified": now, "modified_by": user}
	)
	update_rows("Customer", fields, [_customer_row(move) for move in kept])
	insert_rows(
		"Version",
		("name", "ref_doctype", "docname", "data"),
		[(frappe.generate_hash(length=10), "Customer", move.customer, _version_data(move)) for move in moved],
		{"owner": user, "modified_by": user, "creation": now, "modified": now, "docstatus": 0},
	)
	for move in moved:
		frappe.clear_document_cache("Customer", move.customer)


def _customer_row(move: Move) -> tuple:
	return (move.customer, move.new_group, move.original, move.synced)


def _version_data(move: Move) -> str:
	return json.dumps(
		{
			"changed": [["customer_group", move.old_group, move.new_group]],
			"added": [],
			"removed": [],
			"row_changed": [],
			"data_import": None,
			"updater_reference": {
				"doctype": "Customer Value Settings",
				"docname": "Customer Value Settings",
				"label": _("Customer value tiers"),
			},
		},
		separators=(",", ":"),
	)

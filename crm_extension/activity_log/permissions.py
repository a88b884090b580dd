"""Who may see which activity.

A CRM Activity is visible to whoever may read the document it is about, so its permissions follow the
host's (Lead, Customer, Opportunity ...) rather than adding a second set to maintain.
"""

import frappe
from frappe.model.db_query import DatabaseQuery

from crm_extension.activity_log.engine.payload import REFERENCE_DOCTYPES
from crm_extension.activity_log.links import References

MATCH_CONDITIONS_KEY = "crm_extension:match_conditions"
MATCH_CONDITIONS_CACHE_SECONDS = 60


def match_conditions(doctype: str, user: str | None = None) -> str:
	"""Row-level restrictions on doctype for user (user permissions, 'only if creator', permission query
	hooks, documents shared with the user), as SQL.

	Building them is costly for some host DocTypes (Contact's hook reads every DocPerm of the site), and a
	timeline page needs several. They are cached per user for a minute at most, under the user's key space
	so that Frappe drops them when it clears that user's cache (roles changed); User Permission and
	Custom DocPerm edits and documents shared or unshared (DocShare) drop them through doc_events.
	"""
	user = user or frappe.session.user
	key = f"{MATCH_CONDITIONS_KEY}:{doctype}"
	conditions = frappe.cache.get_value(key, user=user, expires=True)
	if conditions is None:
		conditions = _build_match_conditions(doctype, user)
		frappe.cache.set_value(key, conditions, user=user, expires_in_sec=MATCH_CONDITIONS_CACHE_SECONDS)
	return conditions


def _build_match_conditions(doctype: str, user: str) -> str:
	query = DatabaseQuery(doctype, user=user)
	conditions = query.build_match_conditions() or ""
	# No role may read the DocType: Frappe puts "only what is shared with the user" among the query's own
	# conditions rather than returning it.
	return " and ".join(f"({condition})" for condition in [*query.conditions, conditions] if condition)


def clear_match_conditions_cache(user: str | None = None):
	frappe.cache.delete_keys(f"user:{user or '*'}:{MATCH_CONDITIONS_KEY}")


def readable_references(refs: References, user: str | None = None) -> References:
	"""The subset of refs the user may read: one query per DocType, none when nothing restricts rows."""
	readable = {}
	for doctype, names in refs.items():
		if not frappe.has_permission(doctype, "read", user=user):
			continue
		if conditions := match_conditions(doctype, user):
			names = set(
				frappe.db.sql(
					f"select name from `tab{doctype}` where name in %(names)s and {conditions}",
					{"names": tuple(names)},
					pluck=True,
				)
			)
		if names:
			readable[doctype] = names
	return readable


def get_permission_query_conditions(user: str | None = None) -> str:
	"""List/report filter for CRM Activity: rows about documents the user may read."""
	user = user or frappe.session.user
	if user == "Administrator" or "System Manager" in frappe.get_roles(user):
		return ""
	clauses = []
	for doctype in REFERENCE_DOCTYPES:
		if not frappe.has_permission(doctype, "read", user=user):
			continue
		clause = f"`tabCRM Activity`.reference_doctype = {frappe.db.escape(doctype)}"
		if conditions := match_conditions(doctype, user):
			clause += f" and `tabCRM Activity`.reference_name in (select name from `tab{doctype}` where {conditions})"
		clauses.append(f"({clause})")
	return "(" + " or ".join(clauses) + ")" if clauses else "1=0"


def has_permission(doc, ptype: str = "read", user: str | None = None) -> bool | None:
	"""Read access follows the document the activity is about; writing needs, on top of that, the DocType's
	own permission (Sales Users: their own activities, "if owner"), and an activity that arrived through the
	webhook is never written by a user."""
	if ptype == "write" and doc.get("source") == "Webhook" and not doc.is_new():
		return False
	if not (doc.reference_doctype and doc.reference_name):
		return True
	if not frappe.db.exists(doc.reference_doctype, doc.reference_name):
		return True  # validation reports the missing reference with a clearer message
	return frappe.has_permission(doc.reference_doctype, "read", doc.reference_name, user=user)

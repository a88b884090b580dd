"""A second run refreshes the demo instead of adding to it: what the previous run made for the demo
company goes first.

- The company's transactions (Leads, Opportunities, Quotations, orders, deliveries, invoices, payments,
  stock entries, their ledgers and bins, the app's value snapshots) are deleted by ERPNext's own
  Transaction Deletion Record (the "Delete Transactions" of a Company), run in this process.
- The sequences the demo set up (its email templates and two CRM Sequences), their enrollments and step
  runs, the Email Queue rows of the sequence emails and the sales users' sending schedules.
- What ERPNext keeps outside a company (the Customers, Contacts, emails, calls, meetings and To Dos about
  them) and the app's records about them (CRM Activities, Lead Score Logs) are deleted by name, as the
  deletion record does: only rows about the demo's own Leads, Opportunities and Customers.

Masters the demo reuses (company, users, items, prices, holiday list, scoring rules) stay."""

import frappe

from crm_extension.demo.profiles import EMAIL_DOMAIN, PROFILES

PARTY_DOCTYPES = ("Lead", "Opportunity", "Customer", "Contact", "Quotation")


def reset(company: str) -> int:
	"""Deletes the previous run's records of ``company``; returns how many Leads it had."""
	if not frappe.db.exists("Company", company):
		return 0
	leads = frappe.get_all("Lead", {"company": company}, pluck="name")
	opportunities = frappe.get_all("Opportunity", {"company": company}, pluck="name")
	quotations = frappe.get_all("Quotation", {"company": company}, pluck="name")
	customers = frappe.get_all("Customer", {"lead_name": ("in", leads or [""])}, pluck="name")
	contacts = _linked("Contact", ("Lead", "Customer"), leads + customers)
	names = leads + opportunities + quotations + customers + contacts
	_delete_sequences(names, next((p.lang for p in PROFILES.values() if p.company == company), None))
	_delete_records_about(names, leads)
	_delete_company_transactions(company)
	_delete_documents("Contact", contacts)
	_delete_documents("Customer", customers)
	return len(leads)


def _linked(parenttype: str, link_doctypes: tuple[str, ...], names: list[str]) -> list[str]:
	if not names:
		return []
	return frappe.get_all(
		"Dynamic Link",
		{"parenttype": parenttype, "link_doctype": ("in", link_doctypes), "link_name": ("in", names)},
		pluck="parent",
		distinct=True,
	)


def _delete_records_about(names: list[str], leads: list[str]):
	if not names:
		return
	about = {"reference_doctype": ("in", PARTY_DOCTYPES), "reference_name": ("in", names)}
	communications = frappe.get_all("Communication", about, pluck="name")
	communications += frappe.get_all(
		"Communication Link", {"link_name": ("in", names)}, pluck="parent", distinct=True
	)
	_delete_documents("Communication", communications)
	_delete_documents("Call Log", _linked("Call Log", ("Lead", "Contact", "Customer"), names))
	events = frappe.get_all(
		"Event Participants", {"reference_docname": ("in", names)}, pluck="parent", distinct=True
	)
	_delete_documents("Event", events)
	frappe.db.delete("CRM Activity", about)
	frappe.db.delete("ToDo", {"reference_type": ("in", PARTY_DOCTYPES), "reference_name": ("in", names)})
	frappe.db.delete("Comment", about)
	frappe.db.delete(
		"Notification Log", {"document_type": ("in", PARTY_DOCTYPES), "document_name": ("in", names)}
	)
	frappe.db.delete("Version", {"ref_doctype": ("in", PARTY_DOCTYPES), "docname": ("in", names)})
	frappe.db.delete("Lead Score Log", {"lead": ("in", leads or [""])})


def _delete_sequences(names: list[str], lang: str | None):
	"""The demo's sequences and templates, every enrollment in them or about the demo's records, their step
	runs and Versions, the sequence emails' Email Queue rows and the demo users' sending schedules."""
	from crm_extension.demo.sequences import all_names

	sequences, templates = all_names(lang)
	enrollments = frappe.get_all(
		"CRM Sequence Enrollment", {"sequence": ("in", sequences)}, pluck="name"
	) + frappe.get_all(
		"CRM Sequence Enrollment",
		{"reference_doctype": ("in", PARTY_DOCTYPES), "reference_name": ("in", names or [""])},
		pluck="name",
	)
	if enrollments:
		frappe.db.delete("CRM Sequence Step Run", {"enrollment": ("in", enrollments)})
		frappe.db.delete(
			"Version", {"ref_doctype": "CRM Sequence Enrollment", "docname": ("in", enrollments)}
		)
		frappe.db.delete("CRM Sequence Enrollment", {"name": ("in", enrollments)})
	queued = frappe.get_all(
		"Email Queue",
		{"reference_doctype": ("in", PARTY_DOCTYPES), "reference_name": ("in", names or [""])},
		pluck="name",
	)
	_delete_documents("Email Queue", queued)
	frappe.db.delete("CRM Sequence Sender", {"name": ("like", f"%@{EMAIL_DOMAIN}")})
	_delete_documents("CRM Sequence", [name for name in sequences if frappe.db.exists("CRM Sequence", name)])
	_delete_documents("Email Template", templates)


def _delete_company_transactions(company: str):
	record = frappe.get_doc(
		{"doctype": "Transaction Deletion Record", "company": company, "process_in_single_transaction": 1}
	)
	record.insert(ignore_permissions=True)
	record.submit()
	# Its "Reset Company Values" task saves the Company, whose on_update then tries to make the default
	# warehouses while the deletion runs (refused, and logged as setup errors): the same two values are
	# reset here instead.
	record.db_set("reset_company_default_values", 1)
	frappe.db.set_value("Company", company, {"total_monthly_sales": 0, "sales_monthly_history": None})
	record.start_deletion_tasks()
	status = frappe.db.get_value("Transaction Deletion Record", record.name, "status")
	if status != "Completed":
		raise RuntimeError(
			f"Deleting the demo company's transactions failed: see Transaction Deletion Record {record.name}"
		)
	frappe.cache.delete_value("fiscal_years")


def _delete_documents(doctype: str, names: list[str]):
	"""Rows of the documents and of their child tables (no Deleted Document copies of generated data)."""
	if not names:
		return
	for table in frappe.get_meta(doctype).get_table_fields():
		frappe.db.delete(table.options, {"parenttype": doctype, "parent": ("in", names)})
	frappe.db.delete(doctype, {"name": ("in", names)})

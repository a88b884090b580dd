"""The unified activity feed: every interaction with a party, read where the host already keeps it.

One UNION query over CRM Activity and the host's Communication, Call Log, Event, ToDo, Comment,
CRM Note, Quotation, Sales Order and Sales Invoice, each branch limited to the page window and to what
the user may read. Nothing is copied into CRM Activity.

Each source table gets one branch per kind of related document (Lead, Customer, Contact, ...), driven from
an index on that reference, so a party with one Lead and one Customer reads a window of rows per branch
instead of sorting its whole history. An item reachable through two references (an email about the Lead
that also links the Customer) comes out of two branches identically and UNION keeps one.
"""

import html
from dataclasses import dataclass, field

import frappe
from frappe.utils import cint, strip_html

from crm_extension.activity_log.engine.feed import (
	CALL_CHANNEL,
	COMMUNICATION_MEDIUM_CHANNELS,
	EVENT_CATEGORY_CHANNELS,
	MEETING_CHANNEL,
	add_row_target,
	channel_for_record,
	clip_summary,
	email_engagement,
	normalise_host_item,
)
from crm_extension.activity_log.links import References, related_references
from crm_extension.activity_log.permissions import match_conditions, readable_references
from crm_extension.setup.host_indexes import EVENT_PARTICIPANT_INDEX
from crm_extension.setup.host_indexes import TIMELINE_INDEX as HOST_TIMELINE_INDEX

FEED_PARTY_DOCTYPES = ("Lead", "Opportunity", "Customer", "Contact", "Prospect")
NOTE_PARENTS = ("Lead", "Opportunity", "Prospect")  # host DocTypes with a CRM Note table named notes
MAX_PAGE_LENGTH = 500
ACTIVITY_TIMELINE_INDEX = "reference_name_activity_at_index"
LINK_INDEX = "link_doctype_link_name_index"  # Frappe's own, on Dynamic Link and Communication Link


@dataclass
class FeedQuery:
	refs: References
	window: int
	channel: str | None
	since: str | None = None
	params: dict = field(default_factory=dict)
	branches: list[str] = field(default_factory=list)

	def param(self, value) -> str:
		key = f"p{len(self.params)}"
		self.params[key] = tuple(value) if isinstance(value, set | list | tuple) else value
		return f"%({key})s"

	def refs_conditions(self, doctype_column: str, name_column: str, doctypes=None) -> list[str]:
		"""One condition per related DocType, each on the (doctype, name) index of the source table."""
		return [
			f"{doctype_column} = {self.param(doctype)} and {name_column} in {self.param(names)}"
			for doctype, names in self.refs.items()
			if doctypes is None or doctype in doctypes
		]

	def add(self, select: str, where: list[str | None], at_column: str, refs_conditions=("1=1",)):
		if any(condition is None for condition in where):
			return
		if self.since:
			where = [*where, f"{at_column} >= {self.param(self.since)}"]
		for refs_condition in refs_conditions:
			self.branches.append(
				f"({select} where {' and '.join([refs_condition, *where])} "
				f"order by {at_column} desc limit {self.window})"
			)


def get_feed(
	reference_doctype: str,
	reference_name: str,
	start: int = 0,
	page_length: int = 20,
	channel: str | None = None,
	since: str | None = None,
	user: str | None = None,
) -> list[dict]:
	"""A page of the party's feed, newest first. The caller has checked the user may read the party."""
	refs = readable_references(related_references(reference_doctype, reference_name), user)
	query = FeedQuery(refs=refs, window=start + page_length, channel=channel, since=since)
	for add_branch in BRANCHES:
		add_branch(query, user)
	if not query.branches:
		return []
	sql = " union ".join(query.branches)
	sql += f" order by at desc, source_doctype, source_name desc limit {int(start)}, {int(page_length)}"
	return _add_email_engagement(_present(frappe.db.sql(sql, query.params, as_dict=True)))


def _select(table: str, index: str | None = None, **columns: str) -> str:
	return f"select {_columns(**columns)} from {_indexed(table, index)}"


def _indexed(table: str, index: str | None) -> str:
	"""The optimiser may prefer a full scan when one party owns much of a table; reading the newest rows
	through the (reference, time) index stays a short ordered range scan however large its history."""
	return f"{table} force index (`{index}`)" if index else table


def _columns(**columns: str) -> str:
	order = (
		"at",
		"source_doctype",
		"source_name",
		"channel",
		"channel_type",
		"direction",
		"outcome",
		"subject",
		"summary",
		"performed_by",
		"reference_doctype",
		"reference_name",
	)
	return ", ".join(f"{columns.get(name, 'null')} as {name}" for name in order)


def _fixed_channel_allowed(query: FeedQuery, doctype_or_channel: str) -> str | None:
	"""Branches whose items all share one channel are skipped when another channel is asked for."""
	info = channel_for_record(doctype_or_channel)
	channel = info.channel if info else doctype_or_channel
	return "1=1" if not query.channel or query.channel == channel else None


def _crm_activity(query: FeedQuery, user):
	if not _can_read("CRM Activity", user):
		return
	table = "`tabCRM Activity`"
	select = _select(
		table,
		ACTIVITY_TIMELINE_INDEX,
		at=f"{table}.activity_at",
		source_doctype="'CRM Activity'",
		source_name=f"{table}.name",
		channel=f"{table}.channel",
		channel_type=f"{table}.channel_type",
		direction=f"{table}.direction",
		outcome=f"nullif({table}.outcome, '')",
		subject=f"{table}.subject",
		summary=f"left({table}.details, 280)",
		performed_by=f"{table}.performed_by",
		reference_doctype=f"{table}.reference_doctype",
		reference_name=f"{table}.reference_name",
	)
	where = [f"{table}.channel = {query.param(query.channel)}" if query.channel else "1=1"]
	refs = query.refs_conditions(f"{table}.reference_doctype", f"{table}.reference_name")
	query.add(select, where, f"{table}.activity_at", refs)


def _communication(query: FeedQuery, user):
	"""Emails about a related document, and emails that only link one (Frappe's Communication Link)."""
	if not _can_read("Communication", user):
		return
	table = "`tabCommunication`"
	columns = _columns(
		at=f"{table}.communication_date",
		source_doctype="'Communication'",
		source_name=f"{table}.name",
		channel=f"{table}.communication_medium",
		direction=f"{table}.sent_or_received",
		subject=f"{table}.subject",
		summary=f"left({table}.content, 600)",
		performed_by=f"if({table}.sent_or_received = 'Sent', {table}.sender, null)",
		reference_doctype=f"{table}.reference_doctype",
		reference_name=f"{table}.reference_name",
	)
	where = [
		_match_conditions("Communication", user),  # email accounts of the user, "if owner", user permissions
		f"{table}.communication_type in ('Communication', 'Automated Message')",
		# Frappe mirrors each Event into a Communication for the participants' timelines; the Event branch
		# already shows it.
		f"coalesce({table}.reference_doctype, '') != 'Event'",
	]
	if query.channel:
		mediums = [
			m for m, (channel, _type) in COMMUNICATION_MEDIUM_CHANNELS.items() if channel == query.channel
		]
		where.append(f"{table}.communication_medium in {query.param(mediums)}" if mediums else None)
	at = f"{table}.communication_date"
	on_reference = query.refs_conditions(f"{table}.reference_doctype", f"{table}.reference_name")
	query.add(f"select {columns} from {_indexed(table, HOST_TIMELINE_INDEX)}", where, at, on_reference)
	link = "`tabCommunication Link`"
	linked = query.refs_conditions(f"{link}.link_doctype", f"{link}.link_name")
	from_links = f"select {columns} from {_indexed(link, LINK_INDEX)} straight_join {table} on {table}.name = {link}.parent"
	query.add(from_links, where, at, linked)


def _call_log(query: FeedQuery, user):
	if not _can_read("Call Log", user):
		return
	table, link = "`tabCall Log`", "`tabDynamic Link`"
	columns = _columns(
		at=f"coalesce({table}.start_time, {table}.creation)",
		source_doctype="'Call Log'",
		source_name=f"{table}.name",
		direction=f"{table}.type",
		outcome=f"{table}.status",
		subject=f"concat_ws(' ', {table}.`from`, '→', {table}.`to`)",
		summary=f"left({table}.summary, 280)",
		performed_by=f"{table}.employee_user_id",
	)
	where = [
		_fixed_channel_allowed(query, CALL_CHANNEL[0]),
		f"{link}.parenttype = 'Call Log'",
		_match_conditions("Call Log", user),
	]
	query.add(
		f"select {columns} from {_indexed(link, LINK_INDEX)} straight_join {table} on {table}.name = {link}.parent",
		where,
		f"coalesce({table}.start_time, {table}.creation)",
		query.refs_conditions(f"{link}.link_doctype", f"{link}.link_name"),
	)


def _event(query: FeedQuery, user):
	if not _can_read("Event", user):
		return
	table, participants = "`tabEvent`", "`tabEvent Participants`"
	columns = _columns(
		at=f"{table}.starts_on",
		source_doctype="'Event'",
		source_name=f"{table}.name",
		channel=f"{table}.event_category",
		outcome=f"{table}.status",
		subject=f"{table}.subject",
		summary=f"left({table}.description, 280)",
		performed_by=f"{table}.owner",
	)
	where = [
		_event_channel_condition(query, table),
		f"{participants}.parenttype = 'Event'",
		_match_conditions("Event", user),
	]
	query.add(
		f"select {columns} from {_indexed(participants, EVENT_PARTICIPANT_INDEX)} straight_join {table} "
		f"on {table}.name = {participants}.parent",
		where,
		f"{table}.starts_on",
		query.refs_conditions(f"{participants}.reference_doctype", f"{participants}.reference_docname"),
	)


def _event_channel_condition(query: FeedQuery, table: str) -> str | None:
	if not query.channel:
		return "1=1"
	categories = [c for c, (channel, _type) in EVENT_CATEGORY_CHANNELS.items() if channel == query.channel]
	if query.channel == MEETING_CHANNEL[0]:
		return f"coalesce({table}.event_category, '') not in {query.param(list(EVENT_CATEGORY_CHANNELS))}"
	return f"{table}.event_category in {query.param(categories)}" if categories else None


def _todo(query: FeedQuery, user):
	if not _can_read("ToDo", user):
		return
	table = "`tabToDo`"
	select = _select(
		table,
		HOST_TIMELINE_INDEX,
		at=f"{table}.creation",
		source_doctype="'ToDo'",
		source_name=f"{table}.name",
		subject=f"left({table}.description, 140)",
		performed_by=f"{table}.allocated_to",
		reference_doctype=f"{table}.reference_type",
		reference_name=f"{table}.reference_name",
	)
	where = [
		_fixed_channel_allowed(query, "ToDo"),
		f"{table}.status != 'Cancelled'",
		_match_conditions("ToDo", user),
	]
	refs = query.refs_conditions(f"{table}.reference_type", f"{table}.reference_name")
	query.add(select, where, f"{table}.creation", refs)


def _comment(query: FeedQuery, user):
	if not _can_read("Comment", user):
		return
	table = "`tabComment`"
	select = _select(
		table,
		HOST_TIMELINE_INDEX,
		at=f"{table}.creation",
		source_doctype="'Comment'",
		source_name=f"{table}.name",
		summary=f"left({table}.content, 280)",
		performed_by=f"{table}.comment_email",
		reference_doctype=f"{table}.reference_doctype",
		reference_name=f"{table}.reference_name",
	)
	where = [
		_fixed_channel_allowed(query, "Comment"),
		f"{table}.comment_type = 'Comment'",
		_match_conditions("Comment", user),
	]
	refs = query.refs_conditions(f"{table}.reference_doctype", f"{table}.reference_name")
	query.add(select, where, f"{table}.creation", refs)


def _crm_note(query: FeedQuery, user):
	table = "`tabCRM Note`"
	select = _select(
		table,
		at=f"coalesce({table}.added_on, {table}.creation)",
		source_doctype="'CRM Note'",
		source_name=f"{table}.name",
		summary=f"left({table}.note, 280)",
		performed_by=f"{table}.added_by",
		reference_doctype=f"{table}.parenttype",
		reference_name=f"{table}.parent",
	)
	refs = query.refs_conditions(f"{table}.parenttype", f"{table}.parent", _notes_readable(user))
	at = f"coalesce({table}.added_on, {table}.creation)"
	query.add(select, [_fixed_channel_allowed(query, "CRM Note")], at, refs)


def _notes_readable(user: str | None) -> tuple[str, ...]:
	"""CRM Note rows are read through their parent: the parents whose ``notes`` field the user may read at its
	permission level (the parents themselves are already cut to readable ones)."""
	if (user or frappe.session.user) == "Administrator":
		return NOTE_PARENTS
	readable = []
	for doctype in NOTE_PARENTS:
		meta = frappe.get_meta(doctype)
		field = meta.get_field("notes")
		if field and cint(field.permlevel) in meta.get_permlevel_access("read", user=user):
			readable.append(doctype)
	return tuple(readable)


def _sales_document(doctype: str, party_condition):
	def add_branch(query: FeedQuery, user):
		if not _can_read(doctype, user):
			return
		table = f"`tab{doctype}`"
		date_column = "posting_date" if doctype == "Sales Invoice" else "transaction_date"
		at = f"timestamp({table}.{date_column})"
		select = _select(
			table,
			at=at,
			source_doctype=f"'{doctype}'",
			source_name=f"{table}.name",
			subject=f"concat({table}.name, ' · ', {table}.currency, ' ', format({table}.grand_total, 2))",
			performed_by=f"{table}.owner",
		)
		where = [
			_fixed_channel_allowed(query, doctype),
			f"{table}.docstatus < 2",
			party_condition(query, table),
			_match_conditions(doctype, user),
		]
		query.add(select, where, at)

	return add_branch


def _quotation_parties(query: FeedQuery, table: str) -> str | None:
	quotations = query.refs.get("Quotation")
	return f"{table}.name in {query.param(quotations)}" if quotations else None


def _customer_parties(query: FeedQuery, table: str) -> str | None:
	customers = query.refs.get("Customer")
	return f"{table}.customer in {query.param(customers)}" if customers else None


def _sales_order_parties(query: FeedQuery, table: str) -> str | None:
	"""The party's Sales Orders: its Customers' and those made from its Quotations (links.py)."""
	orders = query.refs.get("Sales Order")
	return f"{table}.name in {query.param(orders)}" if orders else None


BRANCHES = (
	_crm_activity,
	_communication,
	_call_log,
	_event,
	_todo,
	_comment,
	_crm_note,
	_sales_document("Quotation", _quotation_parties),
	_sales_document("Sales Order", _sales_order_parties),
	_sales_document("Sales Invoice", _customer_parties),
)


def _can_read(doctype: str, user: str | None) -> bool:
	return frappe.has_permission(doctype, "read", user=user)


def _match_conditions(doctype: str, user: str | None) -> str:
	return match_conditions(doctype, user) or "1=1"


def _add_email_engagement(rows: list[dict]) -> list[dict]:
	"""``engagement`` ("Opened", "Clicked") on the page's sent emails: one query on their Communications and
	one on the sequence step runs that sent them (indexed on ``communication``), not one per row."""
	sent = [row["source_name"] for row in rows if row["source_doctype"] == "Communication"]
	if not sent:
		return rows
	tracking = {
		row.name: row
		for row in frappe.get_all(
			"Communication",
			filters={"name": ("in", sent), "sent_or_received": "Sent"},
			fields=["name", "read_by_recipient", "delivery_status"],
		)
	}
	clicked = set(
		frappe.get_all(
			"CRM Sequence Step Run",
			filters={"communication": ("in", list(tracking)), "clicked_on": ("is", "set")},
			pluck="communication",
		)
		if tracking
		else ()
	)
	for row in rows:
		if email := tracking.get(row["source_name"]) if row["source_doctype"] == "Communication" else None:
			row["engagement"] = email_engagement(
				email.read_by_recipient, email.delivery_status, email.name in clicked
			)
	return rows


def _present(rows: list[dict]) -> list[dict]:
	"""Host rows carry their own vocabulary (medium, call type, status); give every row the feed's."""
	for row in rows:
		normalise_host_item(row)
		add_row_target(row)
		# Host text fields hold HTML (a ToDo's description, an email's body): shown as the text they read as.
		row["subject"] = html.unescape(strip_html(row["subject"])).strip() if row["subject"] else None
		row["summary"] = clip_summary(html.unescape(strip_html(row["summary"] or "")))
	return rows

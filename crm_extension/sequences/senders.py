"""Each salesperson's sending schedule, shared by every worker on every machine.

One CRM Sequence Sender row per salesperson keeps the send times of their sequence emails in the last 24 h.
A chunk locks the rows of its senders by primary key, in name order, before it sends anything: a locking
read returns what another worker committed even after this transaction's snapshot began, and a primary-key
lock takes no gap locks, so workers on different salespeople never wait for each other, and two workers on
the same salesperson take turns (the limits hold exactly). A step rolled back after its time was reserved
leaves that slot unused, never one too many.
"""

import json
from datetime import datetime, timedelta

import frappe
from frappe.utils import get_datetime

from crm_extension.sequences.calendar import sending_limits
from crm_extension.sequences.engine.throttle import assign_send_times, next_free_time

TABLE = "tabCRM Sequence Sender"
KEEP = timedelta(hours=24)


class SenderSchedules:
	def __init__(self, now: datetime):
		self.now = now
		self.limits = sending_limits()
		self.sends: dict[str, list[datetime]] = {}
		self.changed: set[str] = set()

	def lock(self, senders: set[str]):
		senders = sorted(sender for sender in senders if sender and sender not in self.sends)
		if not senders:
			return
		rows = _locked_rows(senders)
		if missing := [sender for sender in senders if sender not in rows]:
			# the scheduler and enrolling make these rows; a sender without one (an enrollment imported
			# around them) gets it here, a rare path where two workers could wait for each other once
			ensure_rows(missing)
			rows.update(_locked_rows(missing))
		for sender, stored in rows.items():
			self.sends[sender] = [at for at in _parse(stored) if at > self.now - KEEP]

	def next_send(self, sender: str, not_after: datetime | None) -> datetime | None:
		"""The sender's next free slot (24 h cap, gap between emails) before ``not_after``."""
		self.lock({sender})
		return assign_send_times(self.now, self.sends[sender], 1, self.limits, not_after=not_after)[0]

	def free_again(self, sender: str) -> datetime:
		return next_free_time(self.now, self.sends[sender], self.limits)

	def reserve(self, sender: str, at: datetime):
		self.sends[sender].append(at)
		self.changed.add(sender)

	def save(self):
		for sender in sorted(self.changed):
			stored = json.dumps(sorted(at.isoformat(sep=" ") for at in self.sends[sender]))
			frappe.db.sql(
				f"UPDATE `{TABLE}` SET send_times = %s, modified = %s WHERE name = %s",
				(stored, self.now, sender),
			)
		self.changed.clear()


def ensure_rows(senders) -> None:
	"""A schedule row for each sender, made outside the chunks that lock them (enrolling, the scheduler):
	two workers inserting the same missing row and then locking it would deadlock."""
	senders = sorted({sender for sender in senders if sender})
	if not senders:
		return
	now = frappe.utils.now_datetime()
	frappe.db.sql(
		f"""INSERT IGNORE INTO `{TABLE}` (name, user, send_times, creation, modified, owner, modified_by)
		VALUES {", ".join(["(%s, %s, '[]', %s, %s, 'Administrator', 'Administrator')"] * len(senders))}""",
		[value for sender in senders for value in (sender, sender, now, now)],
	)


def _locked_rows(senders: list[str]) -> dict[str, str]:
	rows = frappe.db.sql(
		f"SELECT name, send_times FROM `{TABLE}` WHERE name IN %s ORDER BY name FOR UPDATE", (tuple(senders),)
	)
	return dict(rows)


def _parse(stored: str | None) -> list[datetime]:
	try:
		return [get_datetime(value) for value in json.loads(stored or "[]")]
	except (TypeError, ValueError):
		return []

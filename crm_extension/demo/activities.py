"""How the team and a Lead talked, as the host and the app record it: emails (Communication), calls
(Call Log), meetings (Event) and messages and visits (the app's CRM Activity)."""

from datetime import timedelta

import frappe

from crm_extension.demo.plan import LeadStory, Touch
from crm_extension.demo.texts import (
	CALL_SUMMARIES,
	EMAIL_BODY,
	EMAIL_SUBJECTS,
	MEETING_SUBJECTS,
	MESSAGE_SUBJECTS,
)


def record_touches(story: LeadStory, lead: str, owner: str, lang: str) -> int:
	for number, touch in enumerate(story.touches):
		MAKERS[touch.kind](story, touch, number, lead, owner, lang)
	return len(story.touches)


def _email(story: LeadStory, touch: Touch, number: int, lead: str, owner: str, lang: str):
	direction = "Received" if touch.inbound else "Sent"
	subjects = EMAIL_SUBJECTS[lang][direction]
	subject = subjects[touch.variant % len(subjects)]
	name = f"{story.first_name} {story.last_name}"
	frappe.get_doc(
		{
			"doctype": "Communication",
			"communication_type": "Communication",
			"communication_medium": "Email",
			"sent_or_received": direction,
			"sender": story.email if touch.inbound else owner,
			"sender_full_name": name if touch.inbound else None,
			"recipients": owner if touch.inbound else story.email,
			"subject": subject,
			"content": EMAIL_BODY[lang].format(name=name, subject=subject, sender=owner),
			"communication_date": touch.at,
			"reference_doctype": "Lead",
			"reference_name": lead,
			"status": "Linked",
			"delivery_status": "Sent" if not touch.inbound else None,
			"seen": 1,
		}
	).insert(ignore_permissions=True)


def _call(story: LeadStory, touch: Touch, number: int, lead: str, owner: str, lang: str):
	seconds = (60 + touch.variant * 45) if touch.answered else 0
	summaries = CALL_SUMMARIES[lang]
	frappe.get_doc(
		{
			"doctype": "Call Log",
			"id": f"demo-{lead}-{number}",
			"type": "Incoming" if touch.inbound else "Outgoing",
			"from": story.mobile if touch.inbound else "+10000000000",
			"to": "+10000000000" if touch.inbound else story.mobile,
			"status": "Completed" if touch.answered else "No Answer",
			"duration": seconds,
			"start_time": touch.at,
			"end_time": touch.at + timedelta(seconds=seconds),
			"summary": summaries[touch.variant % len(summaries)] if touch.answered else None,
			"employee_user_id": owner,
			"links": [{"link_doctype": "Lead", "link_name": lead}],
		}
	).insert(ignore_permissions=True)


def _meeting(story: LeadStory, touch: Touch, number: int, lead: str, owner: str, lang: str):
	subjects = MEETING_SUBJECTS[lang]
	frappe.get_doc(
		{
			"doctype": "Event",
			"subject": f"{subjects[touch.variant % len(subjects)]}: {story.company_name}",
			"event_category": "Meeting",
			"event_type": "Private",
			"starts_on": touch.at,
			"ends_on": touch.at + timedelta(hours=1),
			"status": "Completed",
			"event_participants": [{"reference_doctype": "Lead", "reference_docname": lead}],
		}
	).insert(ignore_permissions=True)


def _activity(story: LeadStory, touch: Touch, number: int, lead: str, owner: str, lang: str):
	subjects = MESSAGE_SUBJECTS[lang][touch.channel]
	if touch.kind == "visit":
		direction, outcome = "Outbound", "Meeting Held"
	else:
		direction = "Inbound" if touch.inbound else "Outbound"
		outcome = "Replied" if touch.inbound else ("Completed" if touch.answered else "No Response")
	frappe.get_doc(
		{
			"doctype": "CRM Activity",
			"channel": touch.channel,
			"direction": direction,
			"outcome": outcome,
			"activity_at": touch.at,
			"duration": 3600 if touch.kind == "visit" else None,
			"performed_by": owner,
			"reference_doctype": "Lead",
			"reference_name": lead,
			"subject": subjects[touch.variant % len(subjects)],
			"source": "Manual",
		}
	).insert(ignore_permissions=True)


MAKERS = {"email": _email, "call": _call, "meeting": _meeting, "message": _activity, "visit": _activity}

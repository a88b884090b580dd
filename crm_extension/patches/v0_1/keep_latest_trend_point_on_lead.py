import frappe


def execute():
	"""The trend's latest point now lives on the Lead (``trend_*``), earlier points in Lead Score Log. Leads
	scored before keep their latest logged point: it moves onto the Lead. Run again, nothing changes: a Lead
	that keeps a point is skipped, and no log row has the time of its Lead's kept point."""
	frappe.db.sql(
		"""update `tabLead` lead
		join `tabLead Score Log` log on log.lead = lead.name
		join (select lead, max(scored_on) as scored_on from `tabLead Score Log` group by lead) latest
			on latest.lead = log.lead and latest.scored_on = log.scored_on
		set lead.trend_since = log.scored_on, lead.trend_score = log.score,
			lead.trend_probability = log.conversion_probability, lead.trend_grade = log.grade
		where coalesce(lead.trend_grade, '') = ''"""
	)
	frappe.db.sql(
		"""delete log from `tabLead Score Log` log
		join `tabLead` lead on lead.name = log.lead and lead.trend_since = log.scored_on"""
	)

"""Fields lead scoring adds to the host's Lead (created in code by setup.install, removed on uninstall)."""

from crm_extension.i18n import N_

CUSTOM_FIELDS = {
	"Lead": [
		{
			"fieldname": "lead_score_section",
			"fieldtype": "Section Break",
			"label": N_("Lead Score"),
			"insert_after": "qualified_on",
			"collapsible": 0,
		},
		{
			"fieldname": "lead_grade",
			"fieldtype": "Select",
			"label": N_("Lead Grade"),
			"options": "\nA\nB\nC\nD",
			"insert_after": "lead_score_section",
			"read_only": 1,
			"in_list_view": 1,
			"in_standard_filter": 1,
			"no_copy": 1,
		},
		{
			"fieldname": "lead_score",
			"fieldtype": "Float",
			"label": N_("Lead Score"),
			"insert_after": "lead_grade",
			"read_only": 1,
			"precision": "1",
			"no_copy": 1,
			"description": N_("Points from the lead scoring rules, 0 to 100"),
		},
		{
			"fieldname": "conversion_probability",
			"fieldtype": "Percent",
			"label": N_("Conversion Probability"),
			"insert_after": "lead_score",
			"read_only": 1,
			"no_copy": 1,
			"description": N_("Chance this lead converts, learned from this site's converted and lost leads"),
		},
		{
			"fieldname": "lead_score_column",
			"fieldtype": "Column Break",
			"insert_after": "conversion_probability",
		},
		{
			"fieldname": "score_updated_on",
			"fieldtype": "Datetime",
			"label": N_("Score Updated On"),
			"description": N_("When the score, grade, probability or their reasons last changed"),
			"insert_after": "lead_score_column",
			"read_only": 1,
			"no_copy": 1,
		},
		{
			"fieldname": "score_factors_html",
			"fieldtype": "HTML",
			"label": N_("Why This Score"),
			"insert_after": "score_updated_on",
		},
		{
			"fieldname": "score_breakdown",
			"fieldtype": "Long Text",
			"label": N_("Score Breakdown"),
			"insert_after": "score_factors_html",
			"read_only": 1,
			"hidden": 1,
			"no_copy": 1,
		},
		# The latest point the score trend kept (earlier points are Lead Score Logs): scoring compares each new
		# score with it without reading the log, and a Lead's first score writes no log row.
		{
			"fieldname": "trend_score",
			"fieldtype": "Float",
			"label": N_("Trend Score"),
			"insert_after": "score_breakdown",
			"read_only": 1,
			"hidden": 1,
			"no_copy": 1,
		},
		{
			"fieldname": "trend_grade",
			"fieldtype": "Select",
			"label": N_("Trend Grade"),
			"options": "\nA\nB\nC\nD",
			"insert_after": "trend_score",
			"read_only": 1,
			"hidden": 1,
			"no_copy": 1,
		},
		{
			"fieldname": "trend_probability",
			"fieldtype": "Percent",
			"label": N_("Trend Probability"),
			"insert_after": "trend_grade",
			"read_only": 1,
			"hidden": 1,
			"no_copy": 1,
		},
		{
			"fieldname": "trend_since",
			"fieldtype": "Datetime",
			"label": N_("Trend Point Time"),
			"insert_after": "trend_probability",
			"read_only": 1,
			"hidden": 1,
			"no_copy": 1,
		},
	]
}

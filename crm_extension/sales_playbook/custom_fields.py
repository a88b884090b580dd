"""Fields this capability adds to host DocTypes (created by setup.install, removed by setup.uninstall).

The Opportunity's playbook fields are written by ``doc_events.opportunity`` and ``api.playbook``, hence
read-only; ``crm_playbook_step`` on ToDo ties each To Do to the Opportunity step it was created for, so
completing the step closes every To Do of it (the owner's or those of a role's users) in one query.
"""

BUYER_PERSONA = {
	"fieldname": "buyer_persona",
	"label": "Buyer Persona",
	"fieldtype": "Link",
	"options": "Buyer Persona",
	"in_standard_filter": 1,
	"description": "How this buyer speaks, asks and decides; the playbook suggests closing techniques for it",
}

_WRITTEN_BY_APP = {"read_only": 1, "no_copy": 1}

OPPORTUNITY_FIELDS = [
	{**BUYER_PERSONA, "insert_after": "probability"},
	{
		"fieldname": "playbook_tab",
		"label": "Playbook",
		"fieldtype": "Tab Break",
		"insert_after": "crm_activity_html",
	},
	{
		"fieldname": "sales_playbook",
		"label": "Sales Playbook",
		"fieldtype": "Link",
		"options": "Sales Playbook",
		"insert_after": "playbook_tab",
		"no_copy": 1,
		"in_standard_filter": 1,
		"description": "Chosen from the playbooks' conditions when the Opportunity is created or they change",
	},
	{
		"fieldname": "playbook_progress",
		"label": "Playbook Progress",
		"fieldtype": "Percent",
		"insert_after": "sales_playbook",
		**_WRITTEN_BY_APP,
	},
	{
		"fieldname": "stage_since",
		"label": "In Stage Since",
		"fieldtype": "Date",
		"insert_after": "playbook_progress",
		**_WRITTEN_BY_APP,
	},
	{"fieldname": "playbook_column", "fieldtype": "Column Break", "insert_after": "stage_since"},
	{"fieldname": "playbook_guide", "fieldtype": "HTML", "insert_after": "playbook_column"},
	{
		"fieldname": "playbook_steps_section",
		"label": "Playbook Steps",
		"fieldtype": "Section Break",
		"insert_after": "playbook_guide",
	},
	{
		"fieldname": "playbook_steps",
		"label": "Playbook Steps",
		"fieldtype": "Table",
		"options": "Opportunity Playbook Step",
		"insert_after": "playbook_steps_section",
		**_WRITTEN_BY_APP,
	},
]

CUSTOM_FIELDS = {
	"Lead": [{**BUYER_PERSONA, "insert_after": "qualification_status"}],
	"Contact": [{**BUYER_PERSONA, "insert_after": "designation"}],
	"Opportunity": OPPORTUNITY_FIELDS,
	"ToDo": [
		{
			"fieldname": "crm_playbook_step",
			"label": "Playbook Step",
			"fieldtype": "Data",
			"insert_after": "reference_name",
			"hidden": 1,
			**_WRITTEN_BY_APP,
		}
	],
}

"""Fields this capability adds to host DocTypes (created by setup.install, removed by setup.uninstall)."""

PREFERRED_CHANNEL = {
	"fieldname": "preferred_channel",
	"label": "Preferred Channel",
	"fieldtype": "Link",
	"options": "CRM Channel",
	"read_only": 1,
	"no_copy": 1,
	"in_standard_filter": 1,
	"description": "The channel this party answers best, from its whole activity history",
}


def _timeline_tab(insert_after: str) -> list[dict]:
	return [
		{
			"fieldname": "crm_activity_tab",
			"label": "All Activity",
			"fieldtype": "Tab Break",
			"insert_after": insert_after,
		},
		{
			"fieldname": "crm_activity_html",
			"label": "All Activity",
			"fieldtype": "HTML",
			"insert_after": "crm_activity_tab",
		},
	]


CUSTOM_FIELDS = {
	"Lead": [{**PREFERRED_CHANNEL, "insert_after": "whatsapp_no"}, *_timeline_tab("notes")],
	"Customer": [{**PREFERRED_CHANNEL, "insert_after": "customer_group"}, *_timeline_tab("portal_users")],
	"Contact": [{**PREFERRED_CHANNEL, "insert_after": "mobile_no"}, *_timeline_tab("unsubscribed")],
	"Opportunity": _timeline_tab("notes"),
	"Prospect": _timeline_tab("notes"),
}

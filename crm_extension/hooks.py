app_name = "crm_extension"
app_title = "CRM Extension"
app_publisher = "crm_extension developers"
app_description = "Lead scoring, multi-channel activity logging, customer-value tiers and sales-closing playbooks for ERPNext"
app_email = "dev@crm-extension.invalid"
app_license = "gpl-3.0"

required_apps = ["frappe/erpnext"]

# Every whitelisted method states its argument types (enforced by Frappe v16, honoured by convention on v15).
require_type_annotated_api_methods = True

before_install = "crm_extension.setup.install.before_install"
after_install = "crm_extension.setup.install.after_install"
after_migrate = "crm_extension.setup.install.after_migrate"
setup_wizard_complete = "crm_extension.setup.install.after_setup_wizard"
before_uninstall = "crm_extension.setup.uninstall.before_uninstall"

# The Frappe suite needs a completed ERPNext setup (company, fiscal year, defaults), as ERPNext's own tests do.
before_tests = "erpnext.setup.utils.before_tests"

doctype_js = {
	"Lead": [
		"public/js/activity_log/party_form.js",
		"public/js/lead_scoring/lead_form.js",
		"public/js/sequences/enroll.js",
		"public/js/sequences/party_form.js",
	],
	"Customer": ["public/js/activity_log/party_form.js", "public/js/customer_value/customer_form.js"],
	"Contact": [
		"public/js/activity_log/party_form.js",
		"public/js/sequences/enroll.js",
		"public/js/sequences/party_form.js",
	],
	"Prospect": "public/js/activity_log/party_form.js",
	"Opportunity": [
		"public/js/activity_log/party_form.js",
		"public/js/sales_playbook/opportunity_form.js",
		"public/js/sequences/enroll.js",
		"public/js/sequences/party_form.js",
	],
}

doctype_list_js = {
	"Lead": [
		"public/js/lead_scoring/lead_list.js",
		"public/js/sequences/enroll.js",
		"public/js/sequences/party_list.js",
	],
	# Sequences: "Enroll in Sequence" on the selected rows
	"Contact": ["public/js/sequences/enroll.js", "public/js/sequences/party_list.js"],
	"Opportunity": ["public/js/sequences/enroll.js", "public/js/sequences/party_list.js"],
}

permission_query_conditions = {
	"CRM Activity": "crm_extension.activity_log.permissions.get_permission_query_conditions",
}
has_permission = {
	"CRM Activity": "crm_extension.activity_log.permissions.has_permission",
}

doc_events = {
	"Communication": {"after_insert": "crm_extension.doc_events.communication.after_insert"},
	"Call Log": {"after_insert": "crm_extension.doc_events.call_log.after_insert"},
	"Event": {"after_insert": "crm_extension.doc_events.event.after_insert"},
	"Email Unsubscribe": {"after_insert": "crm_extension.doc_events.email_unsubscribe.after_insert"},
	"Opportunity": {
		"validate": "crm_extension.doc_events.opportunity.validate",
		"on_update": "crm_extension.doc_events.opportunity.on_update",
	},
	"Lead": {
		"on_update": [
			"crm_extension.doc_events.lead.on_update",
			"crm_extension.activity_log.party_addresses.index_party",
		],
		"on_trash": "crm_extension.activity_log.party_addresses.unindex_party",
		"after_rename": "crm_extension.activity_log.party_addresses.party_renamed",
	},
	# the index of addresses the webhook finds senders in (activity_log.party_addresses)
	"Contact": {
		"on_update": "crm_extension.activity_log.party_addresses.index_party",
		"on_trash": "crm_extension.activity_log.party_addresses.unindex_party",
		"after_rename": "crm_extension.activity_log.party_addresses.party_renamed",
	},
	"Customer": {
		"on_update": "crm_extension.activity_log.party_addresses.index_party",
		"on_trash": "crm_extension.activity_log.party_addresses.unindex_party",
		"after_rename": "crm_extension.activity_log.party_addresses.party_renamed",
	},
	"User Permission": {
		"on_update": "crm_extension.doc_events.permissions.user_permission_changed",
		"on_trash": "crm_extension.doc_events.permissions.user_permission_changed",
	},
	"Custom DocPerm": {
		"on_update": "crm_extension.doc_events.permissions.docperm_changed",
		"on_trash": "crm_extension.doc_events.permissions.docperm_changed",
	},
	"DocShare": {
		"after_insert": "crm_extension.doc_events.docshare.share_changed",
		"on_update": "crm_extension.doc_events.docshare.share_changed",
		"on_trash": "crm_extension.doc_events.docshare.share_changed",
	},
}

scheduler_events = {
	"cron": {"*/5 * * * *": ["crm_extension.sequences.dispatch.dispatch_due"]},
	"daily_long": [
		"crm_extension.activity_log.refresh.nightly_refresh",
		"crm_extension.customer_value.recompute.nightly_recompute",
		"crm_extension.customer_value.retention.prune_snapshots",
		"crm_extension.lead_scoring.jobs.nightly_rescore",
		"crm_extension.sales_playbook.guide.refresh_win_rates",
	],
	"weekly_long": ["crm_extension.lead_scoring.jobs.weekly_training"],
}

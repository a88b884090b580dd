"""Fill the CRM Party Address index for the site's existing Contacts, Leads and Customers."""

from crm_extension.activity_log.party_addresses import rebuild_all


def execute():
	rebuild_all()

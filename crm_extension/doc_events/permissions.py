"""Permission changes drop the feed's cached row-level conditions, so a timeline never shows what a user
just lost access to. (Role changes already clear the user's cache in Frappe itself.)"""

from crm_extension.activity_log.permissions import clear_match_conditions_cache


def user_permission_changed(doc, method=None):
	clear_match_conditions_cache(doc.user)


def docperm_changed(doc, method=None):
	clear_match_conditions_cache()

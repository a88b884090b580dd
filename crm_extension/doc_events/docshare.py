"""Sharing a document with a user (or unsharing it) changes which rows that user may read: drop the feed's
cached row-level conditions of that user, or of everyone for a document shared with everyone."""

from crm_extension.activity_log.permissions import clear_match_conditions_cache


def share_changed(doc, method=None):
	clear_match_conditions_cache(None if doc.get("everyone") else doc.user)

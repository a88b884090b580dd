from crm_extension.setup.install import make_custom_fields


def execute():
	"""Sites that had the app before a capability's custom fields existed get them here."""
	make_custom_fields()

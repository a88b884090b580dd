CRM_EXTENSION_MANAGER = "CRM Extension Manager"

# Roles the app adds. ERPNext's Sales User / Sales Manager stay the everyday roles; this one configures
# rules, tiers and playbooks.
APP_ROLES = (CRM_EXTENSION_MANAGER,)

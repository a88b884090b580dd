"""The sales team: a Sales Manager and Sales Users who log in with a password and own their Leads."""

import frappe

from crm_extension.demo.names import TEAM
from crm_extension.demo.profiles import EMAIL_DOMAIN, PASSWORD, Profile

SALES_USERS = ("sales1", "sales2", "sales3")
MANAGER = "manager"
ROLES = {
	MANAGER: ("Sales Manager", "Sales User", "CRM Extension Manager", "Stock User", "Accounts User"),
	**{key: ("Sales User", "Stock User") for key in SALES_USERS},
}


def email(key: str) -> str:
	return f"{key}@{EMAIL_DOMAIN}"


def ensure_team(profile: Profile) -> dict[str, str]:
	"""The demo's users (made once, their names, language and password set on every run)."""
	team = {}
	for key, roles in ROLES.items():
		first_name, last_name = TEAM[profile.lang][key]
		team[key] = _user(email(key), first_name, last_name, roles, profile)
	return team


def sales_users(team: dict[str, str]) -> list[str]:
	return [team[key] for key in SALES_USERS]


def _user(address: str, first_name: str, last_name: str, roles: tuple[str, ...], profile: Profile) -> str:
	if frappe.db.exists("User", address):
		user = frappe.get_doc("User", address)
	else:
		user = frappe.get_doc(
			{"doctype": "User", "email": address, "send_welcome_email": 0, "user_type": "System User"}
		)
	user.update(
		{
			"first_name": first_name,
			"last_name": last_name,
			"language": profile.lang,
			"time_zone": profile.timezone,
			"enabled": 1,
			"new_password": PASSWORD,
		}
	)
	user.flags.no_welcome_mail = True
	user.flags.ignore_password_policy = True  # a demo: the password is printed for anyone to use
	user.append_roles(*roles)
	if user.is_new():
		user.insert(ignore_permissions=True)
	else:
		user.save(ignore_permissions=True)
	frappe.defaults.set_user_default("Company", profile.company, address)
	return address


class as_user:
	"""Run a block as this user (documents get them as owner), then go back to whoever it was."""

	def __init__(self, user: str):
		self.user = user

	def __enter__(self):
		self.previous = frappe.session.user
		frappe.set_user(self.user)

	def __exit__(self, *exc):
		frappe.set_user(self.previous)

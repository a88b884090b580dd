"""Marking strings for translation in code that must not import frappe.

Engines are plain Python, so they cannot call ``frappe._``. They wrap every user-facing template in
``N_()`` (a no-op) so the translation check finds it; the adapter translates it at display time with
``frappe._(template).format(**params)``.
"""


def N_(message: str) -> str:
	return message

"""Engine errors as Frappe exceptions, so the REST API answers with the right HTTP status."""

import frappe
from frappe import _

from crm_extension.activity_log.engine.payload import PayloadError


class PayloadTooLargeError(frappe.ValidationError):
	http_status_code = 413


class UnprocessableEntityError(frappe.ValidationError):
	http_status_code = 422


class RetryLaterError(frappe.ValidationError):
	http_status_code = 503


class InboundServerError(frappe.ValidationError):
	"""A server-side fault (configuration, database) answered 500 to the gateway with a short reason."""

	http_status_code = 500


EXCEPTIONS_BY_STATUS = {
	400: frappe.ValidationError,
	401: frappe.AuthenticationError,
	403: frappe.PermissionError,
	404: frappe.DoesNotExistError,
	413: PayloadTooLargeError,
	422: UnprocessableEntityError,
	500: InboundServerError,
}


def throw_payload_error(error: PayloadError):
	message = _(error.template).format(**error.params)
	frappe.throw(
		message,
		EXCEPTIONS_BY_STATUS.get(error.http_status, frappe.ValidationError),
		title=_("Invalid Request"),
	)


def check_exists(doctype: str, name: str):
	"""404 with the document named, before a permission check that would pass for an empty or unknown name."""
	if not name or not frappe.db.exists(doctype, name):
		frappe.throw(
			_("{0} {1} does not exist").format(_(doctype), frappe.bold(name)),
			frappe.DoesNotExistError,
			title=_("Not Found"),
		)

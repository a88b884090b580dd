"""The one error type of the lead scoring engine: a translatable template with its parameters.

The adapter shows it with ``frappe._(error.template).format(**error.params)``.
"""


class LeadScoringError(ValueError):
	def __init__(self, template: str, params: dict | None = None):
		self.template = template
		self.params = params or {}
		super().__init__(template.format(**self.params))

"""Errors of the sales-playbook engine: a translatable template and its params, like the activity engine's."""


class PlaybookError(Exception):
	def __init__(self, template: str, params: dict | None = None):
		self.template = template
		self.params = params or {}
		super().__init__(template.format(**self.params))


class KnowledgeError(PlaybookError):
	"""Shipped or edited knowledge (techniques, personas, playbooks) is not valid."""


class StepError(PlaybookError):
	"""An operation on an Opportunity's playbook steps cannot be done."""

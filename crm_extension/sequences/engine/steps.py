"""What a sequence step does, once "on the party's preferred channel" is resolved.

Channel types are the app's one vocabulary (CRM Channel.channel_type, read through
``canonical_channel_type``): "email", "EMAIL" and "Email" are the same type, so the adapter may pass a
preferred channel's type in any spelling.
"""

from crm_extension.activity_log.engine.feed import (
	CHANNEL_TYPES,
	EMAIL,
	MEETING,
	MESSAGING,
	VISIT,
	VOICE,
	canonical_channel_type,
)
from crm_extension.i18n import N_

AUTOMATIC_EMAIL = N_("Automatic Email")
MANUAL_EMAIL = N_("Manual Email")
CALL_TASK = N_("Call Task")
MESSAGING_TASK = N_("Messaging Task")
VISIT_TASK = N_("Visit Task")
WAIT = N_("Wait")
STEP_TYPES = (AUTOMATIC_EMAIL, MANUAL_EMAIL, CALL_TASK, MESSAGING_TASK, VISIT_TASK, WAIT)

__all__ = [
	"CHANNEL_TYPES",
	"STEP_TYPES",
	"is_email_step",
	"is_task_step",
	"resolve_step_type",
	"step_channel_type",
]

_TASK_BY_CHANNEL_TYPE = {VOICE: CALL_TASK, MESSAGING: MESSAGING_TASK, VISIT: VISIT_TASK, MEETING: VISIT_TASK}
_CHANNEL_TYPE_BY_STEP = {
	AUTOMATIC_EMAIL: EMAIL,
	MANUAL_EMAIL: EMAIL,
	CALL_TASK: VOICE,
	MESSAGING_TASK: MESSAGING,
	VISIT_TASK: VISIT,
}


def resolve_step_type(
	step_type: str,
	on_preferred_channel: bool,
	preferred_channel_type: str | None,
	has_template: bool | None = None,
) -> str:
	"""The step type to execute. A step "on the party's preferred channel" follows the party's learned
	channel type; a Wait never changes (it sends nothing), and an unknown or absent preference keeps the
	step's own type so the sequence never stalls for lack of evidence.

	``has_template`` says whether an email may be sent automatically; by default only an "Automatic
	Email" step is assumed to have its template (another step turned into email becomes a Manual Email).
	"""
	_check_step_type(step_type)
	if not on_preferred_channel or step_type == WAIT:
		return step_type
	channel_type = canonical_channel_type(preferred_channel_type)
	if channel_type == EMAIL:
		with_template = step_type == AUTOMATIC_EMAIL if has_template is None else has_template
		return AUTOMATIC_EMAIL if with_template else MANUAL_EMAIL
	return _TASK_BY_CHANNEL_TYPE.get(channel_type, step_type)


def step_channel_type(step_type: str) -> str | None:
	"""The channel type a resolved step reaches the party on (stored on the step run, so reply rates can be
	reported per channel); None for a Wait."""
	_check_step_type(step_type)
	return _CHANNEL_TYPE_BY_STEP.get(step_type)


def is_email_step(step_type: str) -> bool:
	"""Sent through the Email Queue by the engine's caller (the other steps become the salesperson's ToDo)."""
	return step_type == AUTOMATIC_EMAIL


def is_task_step(step_type: str) -> bool:
	"""Done by the salesperson: a ToDo with the drafted text."""
	return step_type in (MANUAL_EMAIL, CALL_TASK, MESSAGING_TASK, VISIT_TASK)


def _check_step_type(step_type: str) -> None:
	if step_type not in STEP_TYPES:
		raise ValueError(f"Unknown step type {step_type!r}; expected one of {', '.join(STEP_TYPES)}")

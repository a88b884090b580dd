import frappe
from frappe import _
from frappe.model.document import Document

from crm_extension.lead_scoring.engine.errors import LeadScoringError
from crm_extension.lead_scoring.engine.grade import GradeThresholds
from crm_extension.lead_scoring.messages import translated

GRADE_FIELDS = (
	"grade_a_score",
	"grade_b_score",
	"grade_c_score",
	"grade_a_probability",
	"grade_b_probability",
	"grade_c_probability",
)


class LeadScoringSettings(Document):
	def validate(self):
		try:
			GradeThresholds(
				probability_a=self.grade_a_probability / 100,
				probability_b=self.grade_b_probability / 100,
				probability_c=self.grade_c_probability / 100,
				score_a=self.grade_a_score,
				score_b=self.grade_b_score,
				score_c=self.grade_c_score,
			)
		except LeadScoringError as error:
			frappe.throw(translated(error.template, error.params), title=_("Invalid Grades"))
		if (self.trend_min_change or 0) <= 0:
			frappe.throw(_("The score change worth recording must be more than 0"), title=_("Invalid Value"))

	def on_update(self):
		before = self.get_doc_before_save()
		if before and any(before.get(field) != self.get(field) for field in GRADE_FIELDS):
			from crm_extension.lead_scoring.jobs import queue_full_rescore

			queue_full_rescore()

import frappe
from frappe import _
from frappe.model.document import Document

from crm_extension.customer_value.customer_groups import restore_customer_groups
from crm_extension.customer_value.engine.tiers import TierRule, hex_color

SHARE_RULE = "Share of Customers"
THRESHOLD_RULE = "Minimum CLV"


class CustomerValueTier(Document):
	def validate(self):
		if self.rule_type == SHARE_RULE and not 0 <= (self.share or 0) <= 100:
			frappe.throw(_("The share of customers must be between 0% and 100%"), title=_("Invalid Tier"))
		if self.rule_type == THRESHOLD_RULE and self.min_clv is None:
			frappe.throw(_("Set the minimum predicted CLV of this tier"), title=_("Invalid Tier"))
		if self.color and not hex_color(self.color):
			frappe.throw(
				_("The colour must be a hex colour such as #1F77B4, not {0}").format(
					frappe.utils.escape_html(self.color)
				),
				title=_("Invalid Tier"),
			)
		self.color = hex_color(self.color)
		if self.rank is not None and self.rank < 1:
			frappe.throw(_("The rank must be 1 or more; 1 is the top tier"), title=_("Invalid Tier"))
		if self.sync_customer_group and frappe.db.get_value(
			"Customer Group", self.sync_customer_group, "is_group"
		):
			frappe.throw(
				_("Customer Group {0} is a group; choose one customers can belong to").format(
					frappe.bold(self.sync_customer_group)
				),
				title=_("Invalid Tier"),
			)

	def on_update(self):
		"""A tier that stops naming a Customer Group (or names another) gives its customers back."""
		previous = self.get_doc_before_save()
		if (
			previous
			and previous.sync_customer_group
			and previous.sync_customer_group != self.sync_customer_group
		):
			restore_customer_groups(self.name, previous.sync_customer_group)

	def on_trash(self):
		if self.sync_customer_group:
			restore_customer_groups(self.name, self.sync_customer_group)


def tier_rule(tier: dict) -> TierRule:
	"""The engine rule of one tier row (a share of 0 or 100 % takes every customer left)."""
	if tier["rule_type"] == THRESHOLD_RULE:
		return TierRule(name=tier["name"], rank=int(tier["rank"]), min_value=float(tier["min_clv"] or 0))
	share = (tier.get("share") or 0) / 100
	return TierRule(name=tier["name"], rank=int(tier["rank"]), share=share if 0 < share < 1 else None)


def get_tiers() -> list[dict]:
	return frappe.get_all(
		"Customer Value Tier",
		fields=["name", "rank", "rule_type", "share", "min_clv", "sync_customer_group", "color"],
		order_by="`rank` asc",
	)


def get_tier_rules(tiers: list[dict]) -> list[TierRule]:
	if not tiers:
		frappe.throw(_("Create at least one Customer Value Tier first"), title=_("No Tiers"))
	return [tier_rule(tier) for tier in tiers]

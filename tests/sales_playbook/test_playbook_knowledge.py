import json
import re

import pytest

from crm_extension.sales_playbook.engine.errors import KnowledgeError
from crm_extension.sales_playbook.engine.knowledge import (
	ACTION_TYPES,
	CHANNELS,
	KNOWLEDGE_DIR,
	SALES_STAGES,
	check_step,
	load_knowledge,
	load_personas,
	load_playbook,
	load_techniques,
	parse_conditions,
)

ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF]")
LATIN_WORD = re.compile(r"[A-Za-z]{4,}")
TECHNIQUES = {"Now-or-Never", "Summary", "Sharp Angle", "Question", "Assumptive", "Take-Away", "Soft Close"}
PERSONAS = {"Driver", "Amiable", "Expressive", "Analytical"}
APP_CHANNELS = KNOWLEDGE_DIR.parents[1] / "activity_log" / "defaults" / "crm_channel.json"


@pytest.fixture(scope="module")
def knowledge():
	return load_knowledge()


def texts_of(value):
	"""Every {"en", "fa"} pair inside a parsed knowledge object."""
	if hasattr(value, "en") and hasattr(value, "fa"):
		yield value
	elif isinstance(value, tuple | list):
		for item in value:
			yield from texts_of(item)
	elif hasattr(value, "__dataclass_fields__"):
		for name in value.__dataclass_fields__:
			yield from texts_of(getattr(value, name))


def write(tmp_path, name, data):
	path = tmp_path / name
	path.write_text(json.dumps(data, ensure_ascii=False))
	return path


def raw(name):
	return json.loads((KNOWLEDGE_DIR / name).read_text())


def test_shipped_knowledge_has_all_seven_techniques_and_four_personas(knowledge):
	assert set(knowledge.techniques) == TECHNIQUES
	assert set(knowledge.personas) == PERSONAS


def test_every_shipped_text_is_written_in_english_and_in_persian_script(knowledge):
	objects = [*knowledge.techniques.values(), *knowledge.personas.values(), knowledge.default_playbook]
	texts = [text for item in objects for text in texts_of(item)]

	assert len(texts) > 100
	for text in texts:
		assert text.en.strip() and not ARABIC_SCRIPT.search(text.en), text.en
		assert ARABIC_SCRIPT.search(text.fa), text.fa
		assert not LATIN_WORD.search(text.fa), text.fa  # real Persian, not English left in place


def test_each_technique_has_two_or_three_example_lines(knowledge):
	for technique in knowledge.techniques.values():
		assert 2 <= len(technique.example_lines) <= 3, technique.name


def test_each_persona_rates_every_technique_between_zero_and_one(knowledge):
	for persona in knowledge.personas.values():
		assert set(persona.suitability) == TECHNIQUES
		assert all(0 <= weight <= 1 for weight in persona.suitability.values())
		assert persona.how_to_sell and persona.what_to_avoid


def test_personas_prefer_techniques_that_fit_their_nature(knowledge):
	amiable, analytical = knowledge.personas["Amiable"], knowledge.personas["Analytical"]
	driver = knowledge.personas["Driver"]

	assert amiable.suitability["Soft Close"] > amiable.suitability["Now-or-Never"]
	assert analytical.suitability["Summary"] > analytical.suitability["Assumptive"]
	assert driver.suitability["Sharp Angle"] > driver.suitability["Soft Close"]


def test_default_playbook_covers_every_shipped_sales_stage_in_order(knowledge):
	playbook = knowledge.default_playbook
	stages_in_order = list(dict.fromkeys(step.sales_stage for step in playbook.steps))

	assert playbook.is_default
	assert stages_in_order == list(SALES_STAGES)
	assert all(any(s.mandatory for s in playbook.steps if s.sales_stage == stage) for stage in SALES_STAGES)


def test_default_playbook_steps_use_known_actions_channels_and_techniques(knowledge):
	steps = knowledge.default_playbook.steps

	assert {step.action_type for step in steps} <= set(ACTION_TYPES)
	assert {step.channel for step in steps} <= set(CHANNELS)
	assert {step.closing_technique for step in steps} - {None} <= TECHNIQUES
	assert any(step.role == "Accounts User" for step in steps)


def test_playbook_channels_are_the_apps_shipped_channels():
	assert set(CHANNELS) == {record["name"] for record in json.loads(APP_CHANNELS.read_text())}


def test_a_step_in_an_unknown_stage_is_refused(tmp_path):
	data = raw("default_playbook.json")
	data["steps"][2]["sales_stage"] = "Closing Dance"

	with pytest.raises(KnowledgeError) as raised:
		load_playbook(write(tmp_path, "playbook.json", data), SALES_STAGES, TECHNIQUES)

	assert raised.value.template == "{where} refers to an unknown sales stage {stage}"
	assert raised.value.params["stage"] == "Closing Dance"
	assert "step 3" in raised.value.params["where"]


def test_a_step_suggesting_an_unknown_technique_is_refused(tmp_path):
	data = raw("default_playbook.json")
	data["steps"][0]["closing_technique"] = "Puppy Dog"

	with pytest.raises(KnowledgeError) as raised:
		load_playbook(write(tmp_path, "playbook.json", data), SALES_STAGES, TECHNIQUES)

	assert raised.value.params["technique"] == "Puppy Dog"


def test_a_stage_list_without_a_used_stage_refuses_the_default_playbook():
	with pytest.raises(KnowledgeError) as raised:
		load_playbook(KNOWLEDGE_DIR / "default_playbook.json", SALES_STAGES[:-1], TECHNIQUES)

	assert raised.value.params["stage"] == "Negotiation/Review"


def test_a_missing_persian_text_is_refused(tmp_path):
	data = raw("closing_techniques.json")
	del data[4]["when_it_backfires"]["fa"]

	with pytest.raises(KnowledgeError) as raised:
		load_techniques(write(tmp_path, "techniques.json", data))

	assert raised.value.template == "{where} has no {language} text"
	assert raised.value.params == {
		"where": "techniques.json › Assumptive › when_it_backfires",
		"language": "fa",
	}


def test_a_persona_rating_an_unknown_technique_or_out_of_range_is_refused(tmp_path):
	data = raw("buyer_personas.json")
	data[0]["techniques"][0]["suitability"] = 1.5
	with pytest.raises(KnowledgeError, match="must be between 0 and 1"):
		load_personas(write(tmp_path, "personas.json", data), TECHNIQUES)

	with pytest.raises(KnowledgeError, match="unknown closing technique Summary"):
		load_personas(KNOWLEDGE_DIR / "buyer_personas.json", TECHNIQUES - {"Summary"})


def test_a_technique_with_one_example_line_is_refused(tmp_path):
	data = raw("closing_techniques.json")
	data[0]["example_lines"] = data[0]["example_lines"][:1]

	with pytest.raises(KnowledgeError) as raised:
		load_techniques(write(tmp_path, "techniques.json", data))

	assert raised.value.params["count"] == 1


def test_broken_json_is_reported_with_its_file_name(tmp_path):
	path = tmp_path / "closing_techniques.json"
	path.write_text('[{"name": ')

	with pytest.raises(KnowledgeError) as raised:
		load_techniques(path)

	assert raised.value.params["source"] == "closing_techniques.json"


def test_duplicate_step_keys_are_refused(tmp_path):
	data = raw("default_playbook.json")
	data["steps"][1]["key"] = data["steps"][0]["key"]

	with pytest.raises(KnowledgeError, match="more than once"):
		load_playbook(write(tmp_path, "playbook.json", data), SALES_STAGES, TECHNIQUES)


def test_conditions_refuse_reversed_ranges_and_read_blank_amounts_as_unset():
	with pytest.raises(KnowledgeError, match="comes after"):
		parse_conditions({"from_stage": "Negotiation/Review", "to_stage": "Prospecting"}, "p", SALES_STAGES)
	with pytest.raises(KnowledgeError, match="above the maximum"):
		parse_conditions({"min_amount": 500, "max_amount": 100}, "p", SALES_STAGES)

	conditions = parse_conditions({"min_amount": 0, "max_amount": "", "territory": " "}, "p", SALES_STAGES)

	assert (conditions.min_amount, conditions.max_amount, conditions.territory) == (None, None, None)


def test_texts_fall_back_to_english_for_other_languages(knowledge):
	title = knowledge.techniques["Summary"].title

	assert title.in_language("fa-IR") == title.fa
	assert title.in_language("de") == title.en == "Summary"


def test_check_step_accepts_a_sites_own_channels_and_refuses_others(knowledge):
	step = knowledge.default_playbook.steps[0]
	site_step = type(step)(**{**step.__dict__, "channel": "Carrier Pigeon"})

	with pytest.raises(KnowledgeError, match="unknown channel Carrier Pigeon"):
		check_step(site_step, "p", SALES_STAGES, TECHNIQUES)
	assert check_step(site_step, "p", SALES_STAGES, TECHNIQUES, channels={"Carrier Pigeon"}) is site_step
	with pytest.raises(KnowledgeError, match="unknown channel Email"):
		check_step(step, "p", SALES_STAGES, TECHNIQUES, channels={"Carrier Pigeon"})

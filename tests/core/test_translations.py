import re

from tests.core.translatable import app_strings, translations

PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}")
ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF]")


def test_every_user_facing_string_has_a_persian_translation():
	missing = sorted(app_strings() - set(translations("fa")))

	assert not missing, "add these to crm_extension/translations/fa.csv:\n" + "\n".join(missing)


def test_persian_translations_keep_every_placeholder():
	for source, translated in translations("fa").items():
		assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(translated)), source


def test_persian_translations_are_written_in_persian():
	untranslated = [source for source, text in translations("fa").items() if not ARABIC_SCRIPT.search(text)]

	assert not untranslated, untranslated


def test_the_extractor_finds_strings_of_each_kind():
	strings = app_strings()

	assert "Log Activity" in strings  # JavaScript __()
	assert "Unknown channel {0}" in strings  # Python _()
	assert "The request signature is not valid" in strings  # engine N_()
	assert "Preferred Channel" in strings  # custom field label
	assert "CRM Activity" in strings  # DocType name
	assert "Site Visit" in strings  # shipped channel

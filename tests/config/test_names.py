"""Names: any script, accents and emoji, but nothing that shows as nothing or reorders the text."""

from __future__ import annotations

import pytest

from zato_outconn import ConfigError, OutconnConfig, SecurityConfig
from zato_outconn.config.checks import check_name

LEGIT = ['CRM Customer Profile', 'Café Crème – Zürich', '東京 顧客', 'Клиенты', 'مرکز تماس', 'שירות לקוחות',
         'می\u200cخواهم', 'Rocket 🚀', 'Family 👨\u200d👩\u200d👧', 'Heart ❤\ufe0f', 'Flag 🏴\U000e0067\U000e0062'
         '\U000e0073\U000e0063\U000e0074\U000e007f', 'Thumbs 👍🏽', 'Ångström', 'ｆｕｌｌ　ｗｉｄｔｈ', 'a\u00a0b']

INVISIBLE = {
    '\u200e': 'U+200E (LEFT-TO-RIGHT MARK)', '\u200f': 'U+200F (RIGHT-TO-LEFT MARK)',
    '\u202a': 'U+202A (LEFT-TO-RIGHT EMBEDDING)', '\u202b': 'U+202B (RIGHT-TO-LEFT EMBEDDING)',
    '\u202c': 'U+202C (POP DIRECTIONAL FORMATTING)', '\u202d': 'U+202D (LEFT-TO-RIGHT OVERRIDE)',
    '\u202e': 'U+202E (RIGHT-TO-LEFT OVERRIDE)', '\u2066': 'U+2066 (LEFT-TO-RIGHT ISOLATE)',
    '\u2067': 'U+2067 (RIGHT-TO-LEFT ISOLATE)', '\u2068': 'U+2068 (FIRST STRONG ISOLATE)',
    '\u2069': 'U+2069 (POP DIRECTIONAL ISOLATE)', '\u061c': 'U+061C (ARABIC LETTER MARK)',
    '\u200b': 'U+200B (ZERO WIDTH SPACE)', '\u00ad': 'U+00AD (SOFT HYPHEN)',
    '\ufeff': 'U+FEFF (ZERO WIDTH NO-BREAK SPACE)',
    '\u2060': 'U+2060 (WORD JOINER)', '\u2028': 'U+2028 (LINE SEPARATOR)', '\u2029': 'U+2029 (PARAGRAPH SEPARATOR)',
    '\u3164': 'U+3164 (HANGUL FILLER)', '\U000e0041': 'U+E0041 (TAG LATIN CAPITAL LETTER A)', '\ud800': 'U+D800',
}


@pytest.mark.parametrize('name', LEGIT)
def test_names_of_every_script_accents_and_emoji_are_taken(name: str) -> None:
    assert check_name('name', name) == name
    assert OutconnConfig(name=name, host='http://crm.example.com').name == name


@pytest.mark.parametrize(('char', 'shown'), INVISIBLE.items())
def test_invisible_formatting_is_refused_naming_the_field_and_the_code_point(char: str, shown: str) -> None:
    with pytest.raises(ConfigError) as refused:
        check_name('name', f'invoice{char}fdp.exe')
    assert refused.value.field == 'name' and shown in refused.value.rule, refused.value.rule


def test_every_name_setting_refuses_a_bidi_override() -> None:
    spoofed = 'CRM \u202eorp\u202c'
    with pytest.raises(ConfigError) as refused:
        OutconnConfig.from_input({'name': 'CRM', 'host': 'http://crm.example.com', 'security': spoofed})
    assert refused.value.field == 'security' and 'U+202E' in refused.value.rule
    with pytest.raises(ConfigError) as refused:
        SecurityConfig.from_input({'name': spoofed, 'sec_type': 'bearer', 'secret': 'x'})
    assert refused.value.field == 'name' and 'U+202E' in refused.value.rule

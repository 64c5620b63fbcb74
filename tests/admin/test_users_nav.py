"""The tabs of the users pages mark the page one is on, as the connections' tabs do."""

from __future__ import annotations

import re

import pytest

from tests.admin.pages_client import Pages


@pytest.mark.parametrize(('path', 'current', 'other'), [('/users', 'Users', 'API tokens'),
                                                         ('/users/tokens', 'API tokens', 'Users')])
def test_the_tab_of_this_page_is_marked_current(pages: Pages, path: str, current: str, other: str) -> None:
    pages.sign_in('admin')
    text = pages.text(path)
    nav = re.search(r'<nav class="tabs" aria-label="Users and tokens">(.*?)</nav>', text, re.S)
    assert nav is not None, text[:2000]
    tabs = dict((label, attrs) for attrs, label in re.findall(r'<a ([^>]*)>([^<]*)</a>', nav.group(1)))
    assert set(tabs) == {'Users', 'API tokens'}
    assert 'aria-current="page"' in tabs[current] and 'class="current"' in tabs[current]
    assert 'aria-current' not in tabs[other] and 'current' not in tabs[other]


def test_a_form_shown_again_with_errors_keeps_its_tab(pages: Pages) -> None:
    pages.sign_in('admin')
    text = pages.submit('/users/tokens', '/users/tokens', {'name': '', 'role': 'viewer'}).get_data(as_text=True)
    nav = re.search(r'<nav class="tabs" aria-label="Users and tokens">(.*?)</nav>', text, re.S)
    assert nav is not None and re.search(r'aria-current="page">API tokens</a>', nav.group(1)), text[:2000]

"""Interceptors: the order they run in, which connections they apply to, and what their failures become."""

from __future__ import annotations

import threading
import types
from types import SimpleNamespace
from typing import Any

import pytest

from zato_outconn import CallError, InterceptorError
from zato_outconn.conn.interceptors import CallInfo, Interceptors


def info(name: str = 'CRM Customer Profile', attempt: int = 1) -> CallInfo:
    return CallInfo(name, 'POST', 'http://127.0.0.1:9/customer', 'cid-1', attempt)


class Noting:
    """Notes each hook it is given in a shared list, under its own label."""

    def __init__(self, label: str, seen: list[tuple[str, str, Any]]) -> None:
        self.label = label
        self.seen = seen

    def before_send(self, request: Any, call: CallInfo) -> None:
        self.seen.append((self.label, 'before_send', request))

    def after_receive(self, response: Any, call: CallInfo) -> None:
        self.seen.append((self.label, 'after_receive', response))


class SendOnly:
    def __init__(self, seen: list[str]) -> None:
        self.seen = seen

    def before_send(self, request: Any, call: CallInfo) -> None:
        self.seen.append('send-only')


class Failing:
    def before_send(self, request: Any, call: CallInfo) -> None:
        raise KeyError('signing-key')

    def after_receive(self, response: Any, call: CallInfo) -> None:
        raise ValueError('bad\nsignature')


def test_call_info_is_frozen_and_names_the_call() -> None:
    call = info(attempt=2)
    assert (call.name, call.method, call.url, call.cid, call.attempt) == (
        'CRM Customer Profile', 'POST', 'http://127.0.0.1:9/customer', 'cid-1', 2)
    with pytest.raises(AttributeError):
        call.attempt = 3  # type: ignore[misc]
    assert CallInfo('a', 'GET', 'u', 'c').attempt == 1


def test_without_interceptors_nothing_runs_and_is_empty_says_so() -> None:
    interceptors = Interceptors()
    assert interceptors.is_empty
    interceptors.before_send(object(), info())
    interceptors.after_receive(object(), info())
    interceptors.add(SendOnly([]))
    assert not interceptors.is_empty


def test_hooks_run_in_the_order_added_each_only_where_defined() -> None:
    seen: list[Any] = []
    interceptors = Interceptors()
    interceptors.add(Noting('first', seen))
    interceptors.add(SendOnly(seen))
    interceptors.add(Noting('third', seen))
    interceptors.before_send('request', info())
    interceptors.after_receive('response', info())
    assert seen == [('first', 'before_send', 'request'), 'send-only', ('third', 'before_send', 'request'),
                    ('first', 'after_receive', 'response'), ('third', 'after_receive', 'response')]


def test_an_interceptor_applies_to_the_connections_named_or_matched() -> None:
    seen: list[Any] = []
    interceptors = Interceptors()
    interceptors.add(Noting('all', seen))
    interceptors.add(Noting('one', seen), 'CRM Customer Profile')
    interceptors.add(Noting('glob', seen), 'CRM *')
    interceptors.add(Noting('list', seen), ['Billing', 'ERP?'])
    for name in ('CRM Customer Profile', 'CRM Orders', 'Billing', 'ERP1', 'ERP10', 'crm customer profile'):
        seen.clear()
        interceptors.before_send(None, info(name))
        assert [label for label, *_ in seen] == {
            'CRM Customer Profile': ['all', 'one', 'glob'], 'CRM Orders': ['all', 'glob'],
            'Billing': ['all', 'list'], 'ERP1': ['all', 'list'], 'ERP10': ['all'],
            'crm customer profile': ['all']}[name], name


def test_one_added_later_applies_to_connections_already_called() -> None:
    seen: list[Any] = []
    interceptors = Interceptors()
    interceptors.add(Noting('first', seen), 'CRM*')
    interceptors.before_send(None, info())
    interceptors.add(Noting('later', seen), 'CRM*')
    seen.clear()
    interceptors.before_send(None, info())
    assert [label for label, *_ in seen] == ['first', 'later']


def test_an_interceptor_that_raises_fails_the_call_naming_it() -> None:
    interceptors = Interceptors()
    interceptors.add(Failing())
    with pytest.raises(InterceptorError) as raised:
        interceptors.before_send(None, info())
    error = raised.value
    assert isinstance(error, CallError)
    assert isinstance(error.__cause__, KeyError)
    assert (error.name, error.method, error.url, error.cid) == (
        'CRM Customer Profile', 'POST', 'http://127.0.0.1:9/customer', 'cid-1')
    assert 'interceptor Failing failed in before_send: KeyError' in str(error)
    with pytest.raises(InterceptorError) as raised:
        interceptors.after_receive(None, info())
    # What the interceptor's error says is quoted escaped: it cannot break a log line.
    assert 'interceptor Failing failed in after_receive: ValueError: bad\\nsignature' in str(raised.value)
    assert '\n' not in str(raised.value)


def test_the_first_failure_stops_the_ones_after_it() -> None:
    seen: list[Any] = []
    interceptors = Interceptors()
    interceptors.add(Failing())
    interceptors.add(Noting('after', seen))
    with pytest.raises(InterceptorError):
        interceptors.before_send(None, info())
    assert seen == []


def test_a_module_is_named_by_its_name_any_other_object_by_its_class() -> None:
    def before_send(request: Any, call: CallInfo) -> None:
        raise RuntimeError('no key')

    module = types.ModuleType('signing')
    module.before_send = before_send  # type: ignore[attr-defined]
    interceptors = Interceptors()
    interceptors.add(module, 'CRM*')
    interceptors.add(SimpleNamespace(before_send=before_send), 'Billing')
    with pytest.raises(InterceptorError, match='interceptor signing failed in before_send: RuntimeError: no key'):
        interceptors.before_send(None, info())
    with pytest.raises(InterceptorError, match='interceptor SimpleNamespace failed in before_send'):
        interceptors.before_send(None, info('Billing'))


def test_an_object_without_hooks_is_refused_saying_what_to_define() -> None:
    with pytest.raises(TypeError, match=r'defines neither before_send\(request, call\) nor after_receive'):
        Interceptors().add(object())
    with pytest.raises(TypeError, match='before_send is a str, not a method'):
        Interceptors().add(SimpleNamespace(before_send='sign'))


@pytest.mark.parametrize('connections', [[], '', ['CRM', 3], ('',)])
def test_bad_connections_are_refused_naming_the_argument(connections: Any) -> None:
    with pytest.raises(ValueError, match='^connections: give a connection name, a glob'):
        Interceptors().add(SendOnly([]), connections)


def test_adding_while_calls_run_loses_no_interceptor_and_breaks_no_call() -> None:
    interceptors = Interceptors()
    stop = threading.Event()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            while not stop.is_set():
                interceptors.before_send(None, info())
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    callers = [threading.Thread(target=call) for _ in range(4)]
    for thread in callers:
        thread.start()
    adders = [threading.Thread(target=lambda: [interceptors.add(SendOnly([]), 'CRM*') for _ in range(50)])
              for _ in range(4)]
    for thread in adders:
        thread.start()
    for thread in adders:
        thread.join()
    stop.set()
    for thread in callers:
        thread.join()
    assert not errors
    assert len(interceptors.selection('CRM Customer Profile').before_send) == 200

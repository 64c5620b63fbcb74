"""X-Zato-Component names the process a request comes from, a forked child's own too."""

from __future__ import annotations

import os
import threading

from zato_outconn.conn.headers import Component


def test_names_cluster_server_host_process_and_thread() -> None:
    component = Component('prod', 'server7', 'host-a')
    assert component.current() == f'prod/server7/host-a/{os.getpid()}/{threading.current_thread().name}'
    assert component.process() == f'prod/server7/host-a/{os.getpid()}'


def test_a_forked_child_names_its_own_process() -> None:
    component = Component('prod', 'server7', 'host-a')
    assert component.current().split('/')[3] == str(os.getpid())
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: says what it would send, and ends without running anything else
        try:
            os.write(write, f'{os.getpid()} {component.current()}'.encode())
        finally:
            os._exit(0)
    os.close(write)
    try:
        said = os.read(read, 1000).decode()
    finally:
        os.close(read)
        os.waitpid(child, 0)
    pid, current = said.split(' ', 1)
    assert int(pid) == child
    assert current.split('/')[3] == str(child)

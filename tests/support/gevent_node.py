"""The node process of tests/support/node_process.py, with gevent's patching done first, as a server's is."""

import sys

from gevent import monkey

monkey.patch_all()

from gevent.fileobject import FileObject  # noqa: E402 - imported after patching, as gevent requires

from tests.support.node_process import main  # noqa: E402

if __name__ == '__main__':
    # Reading the commands must not block the hub either (gevent leaves stdin as it is).
    sys.stdin = FileObject(sys.stdin.fileno(), 'r', close=False)
    main()

"""A fork server for the real aws CLI, so that tests pay its start once.

Each `aws` call of a test costs a Python start, the import of awscli and
botocore, and the parse of the service models (EC2's is megabytes of JSON):
one to two CPU seconds, hundreds of times per `make test`. This server
does that work once; each call is then a fork of it that runs the CLI's own
entry point (`python -m awscli` for v1, the script /usr/bin/aws for v2) with
the caller's arguments, environment, working directory and stdin, stdout and
stderr, and reports its exit status. Nothing of one call survives into the
next: each runs in its own child, as a fresh process would.

usage: python3 forkserver.py DIR (module:NAME | script:PATH)
It listens on DIR/sock, says "ready" on stdout, and serves until its stdin
closes (the test binary that started it ended); then it removes DIR.
client.py forwards a call (awscli.go writes the `aws` that runs it).
"""

import atexit
import copy
import gc
import json
import os
import runpy
import select
import shutil
import signal
import socket
import sys
import traceback


def warm():
    """Imports what a call imports and parses the models a call reads, once."""
    import awscli.clidriver
    import botocore.loaders
    import botocore.session

    real = botocore.loaders.JSONFileLoader.load_file
    parsed = {}

    def record(self, file_path):
        data = real(self, file_path)
        if data is not None:
            # A copy: botocore may change what it loaded (it merges extras
            # into a model), and a call must get the file as it is.
            parsed[file_path] = copy.deepcopy(data)
        return data

    def load_file(self, file_path):
        # Runs in a call's child, whose copy of parsed it empties: a warmed
        # file is handed out once, as a fresh process parses it once, and a
        # later load of the same path reads the file.
        data = parsed.pop(file_path, None)
        return data if data is not None else real(self, file_path)

    botocore.loaders.JSONFileLoader.load_file = record
    driver = awscli.clidriver.create_clidriver()
    session = driver.session
    for service in ("ec2", "ecs", "sts"):
        session.create_client(service, region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                              aws_access_key_id="warm", aws_secret_access_key="warm")
        try:
            session.get_paginator_model(service)
            session.get_waiter_model(service)
        except Exception:
            pass
    botocore.loaders.JSONFileLoader.load_file = load_file


def run_child(conn, entry, request, fds):
    """Runs one call in a forked child, as `python -m awscli` or
    `python /usr/bin/aws` would, and exits with its status."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for i, fd in enumerate(fds):
        os.dup2(fd, i)
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    # At import, awscli puts its data directory after the caller's
    # AWS_DATA_PATH (awscli/__init__.py); the import ran in the server, so
    # the child does it with the caller's environment.
    import awscli
    paths = [os.path.expanduser(os.path.expandvars(p)) for p in os.environ["AWS_DATA_PATH"].split(os.pathsep)] \
        if "AWS_DATA_PATH" in os.environ else []
    os.environ["AWS_DATA_PATH"] = os.pathsep.join(paths + [awscli._awscli_data_path[-1]])
    os.chdir(request["cwd"])
    kind, target = entry.split(":", 1)
    code = 0
    try:
        if kind == "module":
            sys.argv = [target] + request["args"]
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.argv = [target] + request["args"]
            runpy.run_path(target, run_name="__main__")
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()  # what the interpreter runs at its exit
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    try:
        conn.sendall(b"%d\n" % (code & 0xFF))
    except OSError:
        pass
    os._exit(code & 0xFF)


def main():
    where, entry = sys.argv[1], sys.argv[2]
    warm()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(os.path.join(where, "sock"))
    listener.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reap themselves
    gc.freeze()  # the collector of a child leaves the server's objects alone
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select([listener, 0], [], [])
        if 0 in ready:
            shutil.rmtree(where, ignore_errors=True)
            return
        conn, _ = listener.accept()
        try:
            msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
            # The request is one JSON line; a long one may arrive in pieces.
            while not msg.endswith(b"\n"):
                more = conn.recv(1 << 20)
                if not more:
                    break
                msg += more
            request = json.loads(msg)
        except Exception:
            conn.close()
            continue
        if os.fork() == 0:
            listener.close()
            run_child(conn, entry, request, fds)
        for fd in fds:
            os.close(fd)
        conn.close()


if __name__ == "__main__":
    main()

"""Forwards one aws call to forkserver.py: usage: python3 -I -S client.py SOCKET ARGS...

It sends its arguments, environment and working directory with its stdin,
stdout and stderr, and exits with the status of the call.
"""
import json
import os
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
request = {"args": sys.argv[2:], "env": dict(os.environ), "cwd": os.getcwd()}
data = json.dumps(request).encode() + b"\n"
sent = socket.send_fds(s, [data], [0, 1, 2])
s.sendall(data[sent:])
status = b""
while not status.endswith(b"\n"):
    more = s.recv(16)
    if not more:
        sys.stderr.write("aws (awscli): the call ended without an exit status\n")
        sys.exit(255)
    status += more
sys.exit(int(status))

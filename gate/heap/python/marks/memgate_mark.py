"""memgate_mark("warmup"): start a phase that memgate measures on its own.

memgate gives the processes it measures MEMGATE_MARK_SYNC, a unix socket:
the line "phase NAME" starts phase NAME, "end" ends it, and memgate answers
once the boundary is done, so the phase starts exactly here. Without memgate
(the variables unset) this does nothing; it never fails the program, and
waits for memgate one second at most. MEMGATE_MARK (a FIFO) takes the same
lines without an answer, for programs that only can write a file.
"""
import os
import socket


def memgate_mark(name=None, pid=None):
    sync, fifo = os.environ.get("MEMGATE_MARK_SYNC"), os.environ.get("MEMGATE_MARK")
    if not sync and not fifo:
        return
    if name:
        name = " ".join(str(name).split())  # one line, whatever the name holds
    line = (("phase %s" % name if name else "end") + (" pid=%d" % pid if pid else "") + "\n").encode("utf-8", "replace")
    try:
        if sync:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                s.bind("")  # an address memgate can answer to
                s.settimeout(1.0)
                s.sendto(line, sync)
                s.recv(16)
        else:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
    except OSError:
        pass

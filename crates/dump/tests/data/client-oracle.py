"""Reads `mariadb -vvv` batch output on stdin; prints "<length> <crc32>" for each statement
the client echoed (the text between two lines of 14 dashes), in order. Used by
make-dumps.sh to record what the real client sends.

One deliberate difference: the client glues MariaDB's sandbox line (`/*M!999999\- enable
the sandbox mode */`, which it sends as `/*M!999999 enable the sandbox mode */`) onto the
next statement; ferry-dump makes it a statement of its own, so this prints "sandbox" for it
and the rest of that text, whitespace trimmed, as the next statement."""
import sys
import zlib

data = sys.stdin.buffer.read()
sep = b"--------------\n"
pos = 0
while True:
    start = data.find(sep, pos)
    if start < 0:
        break
    if start > 0 and data[start - 1:start] != b"\n":
        pos = start + len(sep)
        continue
    body_start = start + len(sep)
    end = data.find(b"\n" + sep, body_start)
    if end < 0:
        break
    body = data[body_start:end]
    marker = b"/*M!999999 enable the sandbox mode */"
    if body.startswith(marker):
        print("sandbox")
        body = body[len(marker):].strip()
    print(len(body), zlib.crc32(body))
    pos = end + 1 + len(sep)

"""The load clients' HTTP/1.1 response reading (keep-alive, no chunked bodies: Django sends a
Content-Length)."""


async def response_read(reader) -> tuple[int, bool]:
    """Read one response off the stream: its status and whether the server closes the
    connection after it. The body is read and dropped."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length, close = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "connection" and value.strip().lower() == "close":
            close = True
    await reader.readexactly(length)
    return status, close

"""Bytes to text, refusing what is not a transcript: too large, binary or undecodable.

Transcripts are text. We accept UTF-8 (with or without a byte-order mark) and UTF-16 with a
byte-order mark, which some Windows tools write. Anything else is refused rather than
guessed, because a wrong guess silently corrupts names and quotes.
"""

from __future__ import annotations

import codecs

from alliance.transcripts.segments import fail

DEFAULT_MAX_BYTES = 5_000_000


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode(data: bytes | str, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Return the text of ``data`` or raise :class:`TranscriptError`.

    Checks, in order: size against ``max_bytes``, emptiness, NUL bytes (binary), and
    decodability. Line endings are normalised to ``\\n``.
    """
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, str | bytes):
        raise fail(source, f"expected text or bytes, got {type(data).__name__}")
    if isinstance(data, str):
        size = len(data.encode("utf-8", errors="surrogatepass"))
        if size > max_bytes:
            raise fail(source, f"is {size:,} bytes, over the limit of {max_bytes:,} bytes")
        text = data.removeprefix("\ufeff")
        if "\x00" in text:
            line = text.count("\n", 0, text.index("\x00")) + 1
            raise fail(source, "contains NUL characters; it looks binary, not a transcript", line)
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
            raise fail(source, "contains unpaired surrogate characters; it is not valid text")
    else:
        if len(data) > max_bytes:
            raise fail(source, f"is {len(data):,} bytes, over the limit of {max_bytes:,} bytes")
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            try:
                text = data.decode("utf-16")
            except UnicodeDecodeError as exc:
                raise fail(source, f"is not valid UTF-16 ({exc.reason})") from None
            if "\x00" in text:
                raise fail(source, "contains NUL characters; it looks binary, not a transcript")
        else:
            nul = data.find(b"\x00")
            if nul >= 0:
                raise fail(source, "contains NUL bytes; it looks binary, not a transcript",
                           _line_of(data, nul))
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise fail(source, "is not UTF-8 text (undecodable byte "
                           f"0x{data[exc.start]:02x}); save it as UTF-8",
                           _line_of(data, exc.start)) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise fail(source, "is empty")
    return text

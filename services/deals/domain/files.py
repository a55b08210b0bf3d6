"""What a stored file is called: the name a client sent, made safe to keep and to serve."""

from __future__ import annotations

import unicodedata

MAX_NAME = 255


def safe_file_name(raw: str) -> str:
    """The last path component of `raw` without control or format characters (newlines,
    NUL, bidi overrides), whitespace collapsed, no leading dots (`..`, hidden files), at most
    `MAX_NAME` characters with its extension kept; "file" when nothing is left."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if ch.isspace() or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
    )
    name = " ".join(name.split()).lstrip(". ").rstrip(" ")
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: MAX_NAME - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_NAME]
    return name or "file"

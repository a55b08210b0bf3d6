"""A received message, parsed: sender, subject, plain text, thread references and
attachments. Plain Python (the standard `email` package), no I/O; a message that cannot be
read whole is refused with the reason rather than stored in part."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email import policy
from email.errors import MessageDefect
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses

MAX_ATTACHMENTS = 50
_MSG_ID = re.compile(r"<[^<>\s]+>")
_HTML_TAG = re.compile(r"<[^>]+>")


class MalformedMail(Exception):
    """The message cannot be taken in: why, in a sentence for the SMTP answer and the log."""


@dataclass(frozen=True)
class Part:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    sender: str
    sender_name: str
    subject: str
    text: str
    references: tuple[str, ...]  # In-Reply-To first, then References newest first
    attachments: tuple[Part, ...]


def parse(raw: bytes) -> ParsedMail:
    """The message, or MalformedMail naming what is wrong with it."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the parser is lenient; anything it raises means unreadable
        raise MalformedMail(f"unreadable message: {exc}") from None
    assert isinstance(message, EmailMessage)
    _no_defects(message, "message")
    sender, name = _sender(message)
    attachments: list[Part] = []
    texts: list[str] = []
    for i, part in enumerate(message.walk()):
        if part.is_multipart():
            _no_defects(part, f"part {i}")
            continue
        _no_defects(part, f"part {i}")
        payload = _payload(part, i)
        if part.is_attachment() or part.get_content_maintype() not in ("text",):
            if len(attachments) >= MAX_ATTACHMENTS:
                raise MalformedMail(f"more than {MAX_ATTACHMENTS} attachments")
            attachments.append(Part(_file_name(part, i), part.get_content_type(), payload))
        else:
            texts.append(_text(part, payload))
    return ParsedMail(
        message_id=_message_id(message, raw),
        sender=sender,
        sender_name=name,
        subject=str(message.get("Subject", "") or "").strip(),
        text="\n\n".join(t for t in texts if t).strip(),
        references=_references(message),
        attachments=tuple(attachments),
    )


def _no_defects(part: EmailMessage, where: str) -> None:
    defects: list[MessageDefect] = list(part.defects)
    if defects:
        raise MalformedMail(f"{where}: {type(defects[0]).__name__}")


def _sender(message: EmailMessage) -> tuple[str, str]:
    raw = message.get_all("From") or []
    if len(raw) != 1:
        raise MalformedMail("the message has no From" if not raw else "more than one From")
    try:
        addresses = getattr(message["From"], "addresses", ())
        first: Address | None = addresses[0] if addresses else None
    except (IndexError, TypeError, ValueError):
        first = None
    if first is None or not first.addr_spec or "@" not in first.addr_spec:
        pairs = getaddresses([str(raw[0])])
        if not pairs or "@" not in pairs[0][1]:
            raise MalformedMail("the From is not an address")
        return pairs[0][1].strip().lower(), pairs[0][0].strip()
    return first.addr_spec.strip().lower(), first.display_name.strip()


def _payload(part: EmailMessage, index: int) -> bytes:
    """The decoded bytes of a leaf part; a transfer encoding that does not decode cleanly
    (broken base64, say) is a broken part."""
    encoding = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = b""
    if part.defects:
        raise MalformedMail(f"part {index}: {type(part.defects[0]).__name__}")
    if encoding == "base64":
        body = part.get_payload()
        compact = re.sub(r"\s", "", body if isinstance(body, str) else "")
        if compact and (len(compact) % 4 or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", compact)):
            raise MalformedMail(f"part {index}: broken base64")
    elif encoding not in ("7bit", "8bit", "binary", "quoted-printable"):
        raise MalformedMail(f"part {index}: unknown transfer encoding {encoding}")
    return data


def _text(part: EmailMessage, payload: bytes) -> str:
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset)
    except (LookupError, UnicodeDecodeError):
        raise MalformedMail(f"a text part is not valid {charset}") from None
    if part.get_content_subtype() == "html":
        text = _HTML_TAG.sub(" ", text)
    return text.replace("\x00", "").strip()


def _file_name(part: EmailMessage, index: int) -> str:
    name = (part.get_filename() or "").replace("/", "_").replace("\\", "_").strip()
    return name[:255] or f"attachment-{index}"


def _message_id(message: EmailMessage, raw: bytes) -> str:
    found = _MSG_ID.findall(str(message.get("Message-ID", "") or ""))
    if found:
        return str(found[0])
    # without one, the content itself identifies a resent copy
    return f"<{hashlib.sha256(raw).hexdigest()}@intake.dealflow>"


def _references(message: EmailMessage) -> tuple[str, ...]:
    reply_to = _MSG_ID.findall(str(message.get("In-Reply-To", "") or ""))
    refs = _MSG_ID.findall(str(message.get("References", "") or ""))
    return tuple(dict.fromkeys([*reply_to, *reversed(refs)]))

"""File names as clients send them, made safe to store and to serve."""

from __future__ import annotations

import pytest

from services.deals.domain.files import MAX_NAME, safe_file_name


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("contract.pdf", "contract.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("..", "file"),
        ("", "file"),
        ("  \x00\x07 ", "file"),
        (".htaccess", "htaccess"),
        ("a\r\nX-Evil: 1.pdf", "a X-Evil: 1.pdf"),  # no header injection
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # no right-to-left override
        ("Счёт №5.pdf", "Счёт №5.pdf"),
        ("tab\there.txt", "tab here.txt"),
    ],
)
def test_a_name_is_its_last_component_without_control_characters(raw: str, kept: str) -> None:
    assert safe_file_name(raw) == kept


def test_a_long_name_keeps_its_extension() -> None:
    name = safe_file_name("x" * 400 + ".pdf")
    assert len(name) == MAX_NAME and name.endswith("x.pdf")

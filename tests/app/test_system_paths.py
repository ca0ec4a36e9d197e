"""Typing a system file's path into a page's "your own model / tokenizer" box gives a clear error
message and never shows any of the file's content."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.conftest import open_page, visible_texts

PASSWD = Path("/etc/passwd")


def passwd_lines() -> list[str]:
    lines = [line for line in PASSWD.read_text(errors="replace").splitlines() if line.strip()] if PASSWD.is_file() else []
    return lines or ["root:x:0:0"]


def all_text(at) -> str:
    texts = visible_texts(at) + [str(widget.value) for widget in at.text_input if widget.key]
    texts += [str(element.value) for element in at.get("code")] + [str(frame.value) for frame in at.dataframe]
    return "\n".join(texts)


@pytest.mark.parametrize(("page", "radio", "spec_key", "load_key"), [
    ("app_pages/attention.py", ("attention_model", "user"), "attention_user_model_spec", "attention_user_model_load"),
    ("app_pages/tokenizers.py", None, "tokenizers_user_spec", "tokenizers_user_load"),
])
@pytest.mark.parametrize("path", ["/etc/passwd", "../../../../../../../../etc/passwd"])
def test_a_system_file_path_gives_an_error_and_no_content(page, radio, spec_key, load_key, path):
    at = open_page(page, "en")
    if radio:  # the page's own model choice that shows the box
        at.radio(key=radio[0]).set_value(radio[1]).run()
    at.text_input(key=spec_key).input(path).run()
    at.button(key=load_key).click().run()
    assert not at.exception
    assert len(at.error) == 1 and "passwd" in at.error[0].value
    shown = all_text(at)
    leaked = [line for line in passwd_lines() if line in shown]
    assert not leaked and "root:x:0:0" not in shown

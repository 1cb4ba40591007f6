"""Where the template that `newservice create` renders comes from.

One function decides it, so that carrying the template's tagged history (which
`copier update` needs) later changes this module and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newservice.errors import NewserviceError

_PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class TemplateSource:
    url: str
    """What Copier is given as the template (`src_path`)."""
    ref: str | None
    """The git ref Copier renders, or None for a plain folder."""
    questions: Path
    """The template's copier.yml, read for the names of its questions."""


def locate_template() -> TemplateSource:
    """The packaged template of an installed wheel, else this development checkout's."""
    packaged = _PACKAGE / "_template"
    if (packaged / "copier.yml").is_file():
        return TemplateSource(str(packaged), None, packaged / "copier.yml")
    checkout = _PACKAGE.parents[1]
    if (checkout / "copier.yml").is_file():
        # The checkout is a git repository without release tags: "HEAD" makes Copier
        # render the working tree as it is instead of searching for the latest tag.
        return TemplateSource(str(checkout), "HEAD", checkout / "copier.yml")
    raise NewserviceError(
        f"the newservice template is missing: neither {packaged} nor {checkout} holds"
        " copier.yml; reinstall newservice"
    )

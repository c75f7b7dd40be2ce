"""The importer's one error: content that cannot be turned into an outline."""
from __future__ import annotations

from workflow.errors import BadInput


class ContentError(BadInput, ValueError):
    """Content that cannot be turned into an outline (unreadable .docx, malformed outline).

    A :class:`~workflow.errors.BadInput` with a reason (``docx_unreadable``,
    ``outline_not_list``, …) whose sentence lives in ``web/messages.py``; for outlines the
    ``path`` parameter names the offending value (``sections[2].paragraphs[0]``). Still a
    ``ValueError``, as it always was.
    """

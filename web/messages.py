"""Every sentence the domain's errors become, keyed by ``code.reason`` (see ``workflow/errors.py``),
and the sentences of content problems (``PROBLEMS``, see ``workflow/checks.py``).

Messages are English msgids in the gettext catalog (``translations/``), translated to Chinese
there; ``%(name)s`` placeholders take the error's params. ``render`` is the one place a
``DomainError`` becomes text, ``render_problem`` the one place a problem does: the HTML pages,
the API and the CLI all call them, each in its reader's language.
``tests/test_i18n.py`` checks that every reason raised in the code has an entry here.
"""
from __future__ import annotations

from typing import Any, Protocol

from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l

from forms import labels

MESSAGES: dict[str, LazyString] = {
    # --- workflow: reports, versions, actions
    # reading and listing
    "not_found.report": _l("Report not found."),
    "not_found.version": _l("Version not found."),
    "not_found.org_unit": _l("Org unit not found."),
    "not_found.comment": _l("Comment not found."),
    "bad_request.not_an_integer": _l("%(field)s must be an integer."),
    "bad_request.not_a_version_number": _l("%(field)s must be a version number."),
    "bad_request.unknown_state": _l("Unknown state: %(state)s."),
    "bad_request.unknown_kind": _l("Unknown kind of report: %(kind)s; expected one of %(expected)s."),
    "bad_request.page_out_of_range": _l("page is out of range."),
    # actions
    "bad_request.unknown_action": _l("Unknown action: %(action)s."),
    "conflict.stale_version": _l("The report changed since you loaded it (version %(seen)s, now %(current)s); "
                                 "reload and try again."),
    "conflict.acted_meanwhile": _l("Someone else acted on this report first; reload and try again."),
    "conflict.action_not_possible": _l("The action “%(action)s” is not possible in the state “%(state)s”."),
    "forbidden.action_not_allowed": _l("You may not take this action on this report."),
    "invalid.blocking_problems": _l("%(count)s problem(s) block submission."),
    "invalid.open_comments": _l("%(count)s review comment(s) still need an answer."),
    "forbidden.not_submitter": _l("Only the submitter can withdraw."),
    "forbidden.self_approval": _l("You cannot approve a report you submitted."),
    "invalid.reason_required": _l("A return needs a reason."),
    # creating and editing
    "bad_request.not_a_string": _l("%(field)s must be a string."),
    "bad_request.required": _l("%(field)s is required."),
    "too_large.too_many_characters": _l("%(field)s exceeds %(limit)s characters."),
    "bad_request.year_out_of_range": _l("year must be between %(min)s and %(max)s."),
    "invalid.not_a_town": _l("Reports belong to a town-level unit."),
    "forbidden.create_not_author": _l("Only an author of this town can create its reports."),
    "conflict.not_a_draft": _l("Only a draft can be edited."),
    "forbidden.edit_not_author": _l("Only an author of this town can edit."),
    "bad_request.content_source": _l("Give exactly one of text, outline or a .docx."),
    "too_large.too_many_sections": _l("More than %(limit)s sections."),
    "too_large.content_too_long": _l("The content is too long."),
    "bad_request.content_empty": _l("The content is empty."),
    # comments
    "conflict.published_no_comments": _l("A published report takes no more comments."),
    "bad_request.invalid_section_id": _l("Invalid section_id."),
    "invalid.no_such_section": _l("No such section in this report."),
    "bad_request.unknown_answer_status": _l("status must be adopted or explained."),
    "forbidden.answer_not_author": _l("Only an author of this town can answer."),
    "conflict.answer_not_draft": _l("Comments are answered while the report is a draft."),
    "conflict.comment_answered": _l("This comment is already answered."),
    # administration
    "forbidden.not_unit_admin": _l("You are not an admin of this unit."),
    "forbidden.admins_only": _l("Admins only."),
    "bad_request.unknown_org_kind": _l("Unknown kind of unit: %(kind)s."),
    "bad_request.division_code_format": _l("The division code has 12 digits."),
    "conflict.division_code_taken": _l("Division code %(code)s exists already."),
    "not_found.parent_unit": _l("Parent unit not found."),
    "forbidden.unit_outside_tree": _l("Units are added inside your own tree."),
    "bad_request.csv_missing_columns": _l("The CSV misses columns: %(columns)s."),
    "bad_request.csv_unknown_parent": _l("Line %(line)s: unknown parent_code %(parent_code)s."),
    "bad_request.csv_line": _l("Line %(line)s: %(error)s"),
    "bad_request.username_format": _l("Username: 2–64 letters, digits or ._-"),
    "bad_request.password_too_short": _l("The password needs at least %(min)s characters."),
    "conflict.username_taken": _l("Username %(username)s is taken."),
    "bad_request.unknown_role": _l("Unknown role: %(role)s."),
    "bad_request.role_not_at_unit": _l("Role %(role)s cannot be held at %(unit)s (a %(kind)s)."),
    "not_found.user": _l("User not found."),
    "conflict.position_exists": _l("This position exists already."),
    "not_found.position": _l("Position not found."),
    # the web layer: logging in, tokens, request bodies, files
    "unauthorized.login": _l("Please log in first."),
    "unauthorized.token": _l("A valid bearer token is required."),
    "unauthorized.credentials": _l("Wrong username or password."),
    "too_large.request_body": _l("The request body exceeds %(limit)s bytes."),
    "bad_request.json_too_deep": _l("JSON nested deeper than %(limit)s levels."),
    "bad_request.json_not_object": _l("The body must be a JSON object."),
    "bad_request.json_invalid": _l("The body is not valid JSON."),
    "bad_request.invalid_fields": _l("Invalid input: %(names)s."),
    "bad_request.pdf_file_missing": _l("Upload the PDF as the multipart field “file”."),
    "bad_request.empty_file": _l("The file is empty."),
    # HTTP errors without a reason of their own (``reason`` "http"; others use FALLBACK)
    "unauthorized.http": _l("Please log in first."),
    "method_not_allowed.http": _l("This method is not allowed here."),
    "error.http": _l("Something went wrong on the server; try again in a moment."),

    # --- workflow: content import (the importer)
    "bad_request.text_not_string": _l("The text must be a string."),
    "bad_request.docx_unreadable": _l(
        "This .docx file cannot be read: it is damaged, or not in the .docx format of Word 2007 or "
        "later (save it as .docx and try again)."),
    # Outlines sent by clients; ``path`` names the value, e.g. sections[2].paragraphs[0].
    "bad_request.outline_not_object": _l("Malformed content: %(path)s must be an object."),
    "bad_request.outline_unknown_key": _l("Malformed content: unknown field %(path)s."),
    "bad_request.outline_missing": _l("Malformed content: %(path)s is required."),
    "bad_request.outline_not_list": _l("Malformed content: %(path)s must be a list."),
    "bad_request.outline_not_string_list": _l("Malformed content: %(path)s must be a list of strings."),
    "bad_request.outline_not_string": _l("Malformed content: %(path)s must be a string."),
    "bad_request.outline_not_integer": _l("Malformed content: %(path)s must be an integer."),
    "bad_request.outline_not_boolean": _l("Malformed content: %(path)s must be true or false."),
    "bad_request.outline_too_deep": _l("Malformed content: %(path)s is nested deeper than %(limit)s levels."),
    "bad_request.outline_bad_number": _l(
        "Malformed content: %(path)s “%(number)s” is not a recognised heading number "
        "(such as 一、 (一) 1. (1))."),
    "bad_request.outline_wrong_level": _l(
        "Malformed content: %(path)s must be %(depth)s (the section's depth), not %(level)s."),
    "bad_request.outline_bad_id": _l("Malformed content: %(path)s must be 1 to %(limit)s characters long."),
    "bad_request.outline_duplicate_id": _l(
        "Malformed content: %(path)s “%(id)s” is the id of another section too."),
    # ---- docx
    "bad_request.docx_too_complex": _l(
        "This .docx file is too large or too complex to read (more than %(limit)s XML elements, or "
        "compressed beyond what a document needs). Save it again in Word or WPS, or split it."),
    "bad_request.docx_other_format": _l(
        "This is a %(format)s file, not a .docx. Open it in Word or WPS, use “Save As” to save it as "
        ".docx, and upload that file."),
    "bad_request.docx_no_title": _l(
        "Enter a title: this .docx has no paragraph in Word's Title style to take it from."),

    # --- pdf: publication, archive, verification
    # The signed PDF of a report (pdf/service.py) and its retry.
    "not_found.publication": _l("This report has not been published."),
    "conflict.pdf_not_ready": _l("The signed PDF is not ready yet."),
    "conflict.approval_form_not_ready": _l("The signed approval form is being prepared; try again in a moment."),
    "not_found.archive_file": _l("The archived file is missing; please tell the administrator."),
    "forbidden.retry_publication": _l("Only an administrator of the district can try again."),
    "conflict.publication_not_failed": _l("Only a failed publication can be retried."),
    # A failed attempt of the publishing job, as stored on the row (pdf/jobs.py, pdf/fonts.py).
    "not_found.publication_id": _l("Publication %(publication_id)s does not exist."),
    "not_found.publication_vanished": _l("Publication %(publication_id)s was deleted while its PDF was "
                                         "being archived."),
    "invalid.signing_key_missing": _l("%(district)s (id %(district_id)s) has no signing key: an administrator "
                                      "must install the district's PKCS#12 file as %(file)s in the keys "
                                      "directory (development: flask dev-keys)."),
    "invalid.town_signing_key_missing": _l("%(town)s (id %(town_id)s) has no key for its seal: an administrator "
                                           "must install the town's PKCS#12 file as %(file)s in the keys "
                                           "directory."),
    "conflict.content_mismatch": _l("Version %(version)s of report %(report_id)s does not match the approved "
                                    "content (hash %(approved)s…): it is not printed."),
    "invalid.font_file_missing": _l("The PDF font for the %(role)s role is missing: %(path)s (face %(subfont)s). "
                                    "Install it (%(install)s) or point the font configuration (PDF_FONTS) at "
                                    "another file."),
    "invalid.font_unreadable": _l("The PDF font for the %(role)s role cannot be read: %(path)s (face "
                                  "%(subfont)s): %(error)s. Install it (%(install)s) or point the font "
                                  "configuration (PDF_FONTS) at another file."),
    "invalid.font_no_unicode_map": _l("The PDF font for the %(role)s role has no Unicode character map: "
                                      "%(path)s (face %(subfont)s). Point the font configuration (PDF_FONTS) "
                                      "at another file."),
    "job.worker_died": _l("The worker making the PDF stopped unexpectedly."),
    "job.failed": _l("The job failed: %(error)s"),
    # The verdict on an uploaded PDF (pdf/verify.py): verify.<detail>.
    "verify.valid": _l("The signature is valid: the file is unchanged since it was signed, and the signing "
                       "certificate is trusted."),
    "verify.untrusted": _l("The signature is intact, but the signing certificate was not issued by an "
                           "authority this system trusts: the issuing body cannot be confirmed."),
    "verify.unsigned": _l("The file carries no electronic signature and cannot be verified."),
    "verify.malformed": _l("The file cannot be read: it is not a valid PDF, or it is damaged."),
    "verify.digest_mismatch": _l("The file was changed: the signed content no longer matches its digest."),
    "verify.signature_invalid": _l("The signature value is invalid: it matches neither the file's content nor "
                                   "the certificate."),
    "verify.modified_after_signing": _l("The file was changed after it was signed: this is not the original "
                                        "published document."),
    "verify.unprocessable": _l("The file was changed: its signature cannot be processed (%(error)s); this is "
                               "not the original published document."),

    # --- cycles, reminders, notifications, channels
    # (entries added by the cycles feature)
    # notifications
    "not_found.notification": _l("Notification not found."),
    "not_found.channel": _l("Channel not found."),
    "not_found.delivery": _l("Delivery not found."),
    "not_found.channel_unit": _l("Org unit not found."),
    "not_found.email_user": _l("User not found."),
    "forbidden.channel_admin": _l("Only an administrator of this unit may manage its channels and deliveries."),
    "bad_request.email": _l("Not an e-mail address."),
    "bad_request.email_notifications": _l("email_notifications must be true or false."),
    "bad_request.channel_kind": _l("The channel kind must be wecom, dingtalk or webhook."),
    "bad_request.channel_url": _l("The channel URL must be an http:// or https:// address."),
    "invalid.channel_url_internal": _l("The channel URL points at an internal address (localhost, a private "
                                       "or link-local network); this server is set to refuse those."),
    "bad_request.channel_secret": _l("The secret is at most 200 characters, without spaces."),
    "bad_request.channel_events": _l("Unknown event kind in events."),
    "bad_request.delivery_status": _l("Unknown delivery status."),
    "conflict.delivery_not_failed": _l("Only a failed delivery can be retried."),
    # cycles
    "bad_request.cycle_bad_number": _l("%(field)s must be a whole number."),
    "bad_request.cycle_unknown_kind": _l("Unknown report kind: %(kind)s."),
    "bad_request.cycle_unknown_state": _l("Unknown cycle state: %(state)s."),
    "bad_request.cycle_page_out_of_range": _l("The page number is out of range."),
    "bad_request.cycle_year_out_of_range": _l("The year must be between %(min)s and %(max)s."),
    "bad_request.cycle_bad_due_date": _l("The due date must be a date written YYYY-MM-DD."),
    "bad_request.cycle_bad_template": _l("The template must be pasted text or an outline."),
    "bad_request.cycle_bad_towns": _l("The towns must be a list of org unit ids."),
    "bad_request.cycle_unknown_status": _l("Unknown status: %(status)s."),
    "bad_request.cycle_unknown_sort": _l("Unknown sort order: %(sort)s."),
    "not_found.cycle": _l("This reporting cycle does not exist, or it is not one of yours."),
    "not_found.cycle_unit": _l("This unit does not exist, or it is not one of yours."),
    "forbidden.cycle_manage": _l("Only the district's reviewers and administrators run its reporting cycles."),
    "conflict.cycle_report_exists": _l("This town already has a report in this cycle; open that one instead."),
    "conflict.cycle_closed": _l("The reporting cycle is closed."),
    "conflict.cycle_open": _l("The reporting cycle is open already."),
    "conflict.cycle_town_has_report": _l("%(town)s already has a report in this cycle and stays expected."),
    "invalid.cycle_not_a_district": _l("Reporting cycles are opened by a district, county or city."),
    "invalid.cycle_due_in_past": _l("The due date has passed already."),
    "invalid.cycle_towns_outside": _l("Only towns of the district can be expected (not: %(ids)s)."),
    "invalid.cycle_no_towns": _l("Choose at least one town."),
    "invalid.cycle_town_not_expected": _l("This cycle does not expect a report from this town."),
    "invalid.cycle_mismatch": _l("The cycle asks for %(kind)s reports of %(year)s."),
    "too_many.reminder_too_soon": _l("Every town asked for was reminded within the hour; the next reminder is "
                                     "possible from %(next_at)s."),

    # --- bulk actions and search
    "bad_request.bulk_action_not_offered": _l("Only approval can be done for several reports at once (not "
                                              "“%(action)s”): a return needs its own reason."),
    "bad_request.bulk_no_items": _l("Choose at least one report."),
    "too_large.bulk_too_many_items": _l("At most %(limit)s reports can be approved at once (%(count)s chosen)."),
    "bad_request.bulk_bad_item": _l("The selection is not valid; reload the page and choose again."),

    # ---- accounts: logins, passwords, sessions
    "too_many.login_attempts": _l("Too many failed logins from this address or for this username. Try again at "
                                  "%(at)s (in %(retry_after)s seconds)."),
    "too_many.account_locked": _l("Too many failed logins: this username is locked for %(minutes)s minutes, until "
                                  "%(at)s. An administrator can lift the lockout."),
    "bad_request.password_too_long": _l("The password may have at most %(max)s characters."),
    "bad_request.password_contains_username": _l("The password must not contain the username."),
    "bad_request.password_too_common": _l("This password is one of the most commonly used ones; choose another."),
    "bad_request.current_password_wrong": _l("The current password is wrong."),
    "bad_request.password_unchanged": _l("The new password is the same as the current one."),
    "bad_request.active_not_boolean": _l("active must be true or false."),
    "forbidden.own_account": _l("Not on your own account: change your own password on the Password page."),
    # ---- auditchain: separation of duties
    "forbidden.approve_own_edit": _l("You cannot approve a report whose content you wrote or edited: "
                                     "someone else must approve it."),
    "forbidden.self_grant": _l("You cannot grant yourself a position: another administrator must do it."),
    "forbidden.user_outside_subtree": _l("This user also holds positions outside the units you administer: "
                                         "an administrator of a unit above them all must change their positions."),
    # ---- tables
    # Tables in the content (workflow/importer/tables.py); ``table`` is the table's number in
    # pasted text, or its path in a client's outline (sections[0].tables[1]).
    "bad_request.outline_table_no_rows": _l("Malformed content: %(path)s must be a non-empty list of rows."),
    "bad_request.outline_out_of_range": _l("Malformed content: %(path)s must be from 0 to %(limit)s."),
    "bad_request.outline_duplicate_table_id": _l(
        "Malformed content: %(path)s “%(id)s” is the id of another table too."),
    "too_large.too_many_tables": _l("More than %(limit)s tables."),
    "too_large.table_too_many_rows": _l("Table %(table)s has more than %(limit)s rows."),
    "too_large.table_too_many_columns": _l("Table %(table)s has more than %(limit)s columns."),
    "too_large.table_cell_too_long": _l("A cell of table %(table)s has more than %(limit)s characters."),
    # ---- verify
    "verify.signature_removed": _l("The file was changed after it was signed: its signature was removed."),
    "verify.timestamp_invalid": _l("The file was changed after it was signed: a timestamp in revision "
                                   "%(revision)s no longer matches the file."),
    "verify.info_changed": _l("The file was changed after it was signed: revision %(revision)s rewrites the "
                              "document information (such as the archive number)."),
    "verify.empty_update": _l("The file was changed after it was signed: revision %(revision)s is an update "
                              "that no signature covers."),
    "verify.bytes_after_end": _l("The file was changed after it was signed: %(bytes)s bytes were appended after "
                                 "its end."),
    "verify.catalog_replaced": _l("The file was changed after it was signed: revision %(revision)s replaces the "
                                  "document catalog."),
    "verify.catalog_changed": _l("The file was changed after it was signed: revision %(revision)s changes the "
                                 "document catalog."),
    "verify.objects_added": _l("The file was changed after it was signed: revision %(revision)s adds or "
                               "replaces %(count)s objects."),
    "verify.content_changed": _l("The file was changed after it was signed: page content or document structure "
                                 "was altered."),
    "verify.annotations_added": _l("The file was changed after it was signed: annotations were added or changed."),
    "verify.form_changed": _l("The file was changed after it was signed: form fields were filled in or changed."),
    # ---- hygiene
    "bad_request.text_and_outline": _l("Give the content as text or as an outline, not both."),
    "bad_request.text_or_outline": _l("Give the content: either text or an outline."),
    # Why a publication's PDF failed, as a reviewer is told (pdf.publications.REVIEWER_REASONS).
    "publication_failed.signing_key": _l("The district's signing key is not installed; an administrator of the "
                                         "district must install it, then try again."),
    "publication_failed.content_changed": _l("The content differs from the approved content, so it was not "
                                             "printed."),
    "publication_failed.fonts": _l("The fonts for the PDF are missing on the server."),
    "publication_failed.interrupted": _l("The PDF was interrupted while being made."),
    "publication_failed.internal": _l("An internal error stopped it; the details are in the server's log."),
    "invalid.org_kind_under_parent": _l("A unit of this kind cannot be placed under %(parent)s."),
    "conflict.org_unit_name_taken": _l("%(parent)s already has a unit named %(name)s."),
    # ---- perf
    "bad_request.bad_cursor": _l("The page link is not valid; start again from the first page."),
    "bad_request.limit_out_of_range": _l("limit must be between 1 and %(max)s."),
    # ---- rollup
    "bad_request.catalogue_entry_malformed": _l("Each catalogue entry needs a key, a name, a unit and a list of "
                                                "synonyms."),
    "bad_request.catalogue_key_invalid": _l("The key “%(key)s” is not valid: use lowercase letters, digits and "
                                            "underscores, starting with a letter."),
    "bad_request.catalogue_key_duplicate": _l("The key “%(key)s” appears twice in the catalogue."),
    "bad_request.catalogue_size": _l("The catalogue needs between 1 and %(max)s indicators."),
    "forbidden.catalogue_not_editor": _l("Only the district's reviewers and administrators may change its indicator "
                                         "catalogue."),
    "forbidden.key_indicators_not_author": _l("Only an author of the town may confirm its key indicators."),
    "conflict.key_indicators_frozen": _l("Key indicators can be confirmed only while the report is a draft (it is "
                                         "now: %(state)s); they are frozen with the submitted content."),
    "bad_request.key_indicators_malformed": _l("The values must map indicator keys to numbers, and the reasons "
                                               "indicator keys to texts."),
    "bad_request.unknown_indicator": _l("“%(key)s” is not an indicator of the catalogue."),
    "bad_request.indicator_value_not_a_number": _l("The value of “%(key)s” must be a number."),
    "invalid.indicator_blank_without_reason": _l("%(name)s is left blank: give a reason."),
    "forbidden.plan_tasks_not_author": _l("Only an author of the town may set the status of its plan tasks."),
    "conflict.plan_tasks_frozen": _l("Plan task statuses can be set only while the report is a draft (it is now: "
                                     "%(state)s)."),
    "not_found.plan": _l("This town has no published annual plan for the report's year."),
    "bad_request.plan_task_malformed": _l("Each task needs a section_id, a status and optionally a note."),
    "bad_request.plan_task_unknown": _l("“%(section_id)s” is not a task of the plan."),
    "bad_request.plan_task_status_unknown": _l("“%(status)s” is not a task status."),
    "conflict.catalogue_changed_meanwhile": _l("Someone else saved the catalogue meanwhile; reload and try again."),
}

# ---- accounts: parameters that are codes, shown by their label (a role, never "author").
PARAM_LABELS: dict[str, dict[str, dict[str, LazyString]]] = {
    "bad_request.role_not_at_unit": {"role": labels.ROLES, "kind": labels.ORG_KINDS},
    "conflict.action_not_possible": {"action": labels.ACTIONS, "state": labels.STATES},
    "bad_request.unknown_kind": {"expected": labels.KINDS},
    "invalid.cycle_mismatch": {"kind": labels.KINDS},
    "bad_request.bulk_action_not_offered": {"action": labels.ACTIONS},
    "conflict.key_indicators_frozen": {"state": labels.STATES},  # ---- rollup
    "conflict.plan_tasks_frozen": {"state": labels.STATES},
}

# A category's message, for a reason with no entry of its own (one added later).
FALLBACK: dict[str, LazyString] = {
    "bad_request": _l("The request is malformed."),
    "forbidden": _l("You may not do this."),
    "not_found": _l("Not found."),
    "conflict": _l("This conflicts with the current state; reload and try again."),
    "too_large": _l("Too large."),
    "invalid": _l("The request cannot be carried out as it stands."),
    "too_many": _l("Too many requests; try again later."),
}


class Keyed(Protocol):
    """Anything with a message key ``code.reason`` and its params: a ``DomainError``, a
    verification verdict (``pdf.verify.VerifyResult``), a stored job failure
    (``pdf.publications.StoredError``)."""

    @property
    def key(self) -> str: ...

    @property
    def params(self) -> dict[str, Any]: ...


def render(exc: Keyed) -> str:
    """The error (or verdict) as a sentence in the current request's language."""
    code, _, reason = exc.key.partition(".")
    return render_key(code, reason, exc.params)


def render_key(code: str, reason: str, params: dict[str, Any] | None = None) -> str:
    """The sentence of ``code.reason`` with ``params``, in the current request's language.

    A list parameter is written as a list in that language; a parameter that is itself an
    error (``{"code", "reason", "params"}``, e.g. the error of one CSV line) is rendered too."""
    template = MESSAGES.get(f"{code}.{reason}") or FALLBACK.get(code) or FALLBACK["bad_request"]
    named = PARAM_LABELS.get(f"{code}.{reason}", {})
    return _fill(str(template), {k: _param_text(_labelled(v, named.get(k))) for k, v in (params or {}).items()})


def _labelled(value: Any, mapping: dict[str, LazyString] | None) -> Any:
    """A code (or a list of codes) as its label in the reader's language; others unchanged."""
    if mapping is None:
        return value
    if isinstance(value, (list, tuple)):
        return [labels.label(mapping, item) if isinstance(item, str) else item for item in value]
    return labels.label(mapping, value) if isinstance(value, str) else value


# ---------------------------------------------------------------- content problems

# A content problem (``workflow.checks``) is stored as ``{"code", "reason", "severity",
# "params", "section_id", "excerpt"}``; its sentence, keyed ``code.reason``, is written here
# in the reader's language. Rows stored before problems had reasons carry a Chinese "message".
PROBLEMS: dict[str, LazyString] = {
    "placeholder.unfilled": _l("Unfilled placeholder “%(text)s”"),
    "missing_glyph.not_in_font": _l("Character “%(char)s” (%(codepoint)s) cannot be shown in the PDF font"),
    "empty_section.no_content": _l("Nothing under “%(label)s”"),
    "numbering.duplicate": _l("Number “%(number)s” is repeated"),
    "numbering.out_of_order": _l("Number “%(number)s” comes after “%(previous)s”: out of order"),
    "numbering.starts_late": _l("Numbering starts at “%(number)s”; missing %(missing)s"),
    "numbering.gap": _l("Numbering jumps from “%(previous)s” to “%(number)s”; missing %(missing)s"),
    "numbering.lead_in_duplicate": _l("Item “%(text)s” is repeated"),
    "numbering.lead_in_out_of_order": _l("Item “%(text)s” comes after “%(previous)s”: out of order"),
    "numbering.lead_in_gap": _l("Item “%(previous)s” is followed by “%(text)s”; missing %(missing)s"),
    # ---- textparse
    "no_headings.none_found": _l("No section headings were recognised, so the report has no outline: "
                                 "number the headings (一、 (一) 1. or 第一章) or use Word's heading styles"),
    "halfwidth_punctuation.between_chinese": _l(
        "%(count)s half-width punctuation marks between Chinese characters, e.g. %(examples)s: "
        "the full-width forms ，；：？！（） are meant"),
}
UNTITLED = _l("(untitled)")
LIST_SEPARATOR = _l(", ")
LIST_AND_MORE = _l("%(list)s etc.")


def render_problem(problem: dict) -> str:
    """One content problem as a sentence in the current request's language."""
    template = PROBLEMS.get(f"{problem.get('code')}.{problem.get('reason')}")
    if template is None:
        return _legacy_problem_text(problem)
    params = dict(problem.get("params") or {})
    if problem.get("code") == "empty_section" and not params.get("label"):
        params["label"] = str(UNTITLED)
    if isinstance(params.get("examples"), list):
        params["examples"] = _join([f"“{item}”" for item in params["examples"]])
    if isinstance(params.get("missing"), list):
        params["missing"] = _join([f"“{item}”" for item in params["missing"]], more=bool(params.get("more")))
    return _fill(str(template), {k: _param_text(v) for k, v in params.items()})


def problems_for_reader(problems: list[dict] | None) -> list[dict]:
    """The problems with their ``message`` in the current request's language (for the API)."""
    return [{**p, "params": p.get("params") or {}, "message": render_problem(p)} for p in problems or []]


def _legacy_problem_text(problem: dict) -> str:
    """A problem stored without a reason: its stored Chinese message, or in English the
    problem's name and the excerpt it points at."""
    name = labels.label(labels.PROBLEMS, problem.get("code"))
    if _is_english():
        excerpt = problem.get("excerpt") or ""
        return f"{name}: “{excerpt}”" if excerpt else name
    return problem.get("message") or name


# ---------------------------------------------------------------- helpers


def _is_english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "en"


def _join(items: list[str], *, more: bool = False) -> str:
    text = str(LIST_SEPARATOR).join(items)
    return str(LIST_AND_MORE) % {"list": text} if more else text


def _param_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict) and {"code", "reason"} <= set(value):
        return render_key(value["code"], value["reason"], value.get("params"))
    if isinstance(value, (list, tuple)):
        return _join([str(item) for item in value])
    return value


def _fill(text: str, params: dict[str, Any]) -> str:
    try:
        return text % params if params and "%(" in text else text
    except (KeyError, ValueError, TypeError):
        return text

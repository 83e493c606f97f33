"""The one table of notifications: what happens × who is told × through which channels.

README's "Notifications" table is this table in prose; ``tests/test_notifications.py``
checks that each kind here is sent where it should be, and that README lists every kind.

Every kind goes to the in-app list. E-mail and WhatsApp follow each person's choice on
*Akun saya* (``User.notify_email``, ``User.notify_whatsapp``); ``channels`` here says which
of those a kind may use at all (reminders go out on every channel; a panel change by
e-mail only, as it carries a sign-in link).

Titles and bodies are msgids with ``%(name)s`` parameters; they are rendered in the
reader's language when shown or sent, from the parameters stored with the notification.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

EMAIL, WHATSAPP = "email", "whatsapp"
BOTH = (EMAIL, WHATSAPP)


@dataclass(frozen=True)
class Kind:
    code: str
    role: str  # who receives it: kim, judge, operator
    when: object  # lazy text: when it is sent (README and the settings page)
    title: object  # lazy msgid with %(…)s parameters
    body: object
    channels: tuple[str, ...] = BOTH


KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        # --- KIM ---------------------------------------------------------------------------
        Kind(
            "submission_opened",
            "kim",
            _l("the submission phase opens"),
            _l("%(event)s: you can upload your evidence now"),
            _l(
                "The submission window is open until %(deadline)s. Upload evidence per criterion "
                "and your presentation, then submit."
            ),
        ),
        Kind(
            "deadline_h3",
            "kim",
            _l("3 days before its deadline, while not submitted"),
            _l("%(event)s: 3 days left to submit"),
            _l(
                "Your entry %(entry)s is not submitted yet. The deadline is %(deadline)s: "
                "%(missing)s."
            ),
        ),
        Kind(
            "deadline_h1",
            "kim",
            _l("1 day before its deadline, while not submitted"),
            _l("%(event)s: 1 day left to submit"),
            _l(
                "Your entry %(entry)s is not submitted yet. The deadline is %(deadline)s: "
                "%(missing)s."
            ),
        ),
        Kind(
            "entry_returned",
            "kim",
            _l("its entry is sent back for fixes"),
            _l("%(event)s: your entry needs fixes"),
            _l(
                "The organiser sent entry %(entry)s back: %(note)s Fix it and submit again "
                "before %(deadline)s."
            ),
        ),
        Kind(
            "entry_verified",
            "kim",
            _l("its entry is verified"),
            _l("%(event)s: your entry is verified"),
            _l("Entry %(entry)s is complete and goes on to judging."),
        ),
        Kind(
            "standing_changed",
            "kim",
            _l("its standing changes (did not submit, eliminated, withdrawn, reinstated)"),
            _l("%(event)s: your standing is now %(standing)s"),
            _l("Entry %(entry)s: %(standing)s. %(reason)s"),
        ),
        Kind(
            "stage_selected",
            "kim",
            _l("it is selected for the next stage"),
            _l("%(event)s: you go on to %(stage)s"),
            _l("Entry %(entry)s is selected for the stage %(stage)s."),
        ),
        Kind(
            "stage_not_selected",
            "kim",
            _l("it is not selected for the next stage"),
            _l("%(event)s: not selected for %(stage)s"),
            _l(
                "Entry %(entry)s is not selected for the stage %(stage)s. It keeps the scores "
                "it earned so far."
            ),
        ),
        Kind(
            "schedule_set",
            "kim",
            _l("its presentation slot is set or moved"),
            _l("%(event)s: your presentation is on %(when)s"),
            _l("Entry %(entry)s presents on %(when)s (%(stage)s). %(place)s"),
        ),
        Kind(
            "visit_set",
            "kim",
            _l("its field visit is scheduled or moved"),
            _l("%(event)s: field visit on %(when)s"),
            _l(
                "The judges visit entry %(entry)s on %(when)s (%(stage)s) at %(place)s. "
                "Prepare what the criteria ask for."
            ),
        ),
        Kind(
            "provisional_results",
            "kim",
            _l("provisional results are announced"),
            _l("%(event)s: provisional results"),
            _l("The provisional results are out. You may object until %(closes)s."),
        ),
        Kind(
            "objection_decided",
            "kim",
            _l("its objection is decided"),
            _l("%(event)s: your objection is decided"),
            _l("Decision: %(decision)s. %(note)s"),
        ),
        Kind(
            "results_published",
            "kim",
            _l("results are published"),
            _l("%(event)s: the results are published"),
            _l("The results are published. %(outcome)s"),
        ),
        Kind(
            "certificate_ready",
            "kim",
            _l("its certificate is issued"),
            _l("%(event)s: your certificate is ready"),
            _l("Certificate %(number)s (%(award)s) is ready to download."),
        ),
        Kind(
            "rapor_ready",
            "kim",
            _l("its rapor (feedback report) is ready"),
            _l("%(event)s: your rapor is ready"),
            _l("The judges' feedback report for entry %(entry)s is ready to read."),
        ),
        # --- judge -------------------------------------------------------------------------
        Kind(
            "panel_added",
            "judge",
            _l("they are added to a stage's panel"),
            _l("%(event)s: you are on the panel of %(stage)s"),
            _l("You judge the stage %(stage)s. Judging closes %(deadline)s."),
        ),
        Kind(
            "assigned",
            "judge",
            _l("entries are assigned to them"),
            _l("%(event)s: %(count)s entries to score"),
            _l("You have %(count)s entries to score in %(stage)s before %(deadline)s."),
        ),
        Kind(
            "judging_h3",
            "judge",
            _l("3 days before the stage closes, with sheets not final"),
            _l("%(event)s: 3 days left, %(count)s sheets not final"),
            _l("%(count)s of your sheets in %(stage)s are not final. Judging closes %(deadline)s."),
        ),
        Kind(
            "judging_h1",
            "judge",
            _l("1 day before the stage closes, with sheets not final"),
            _l("%(event)s: 1 day left, %(count)s sheets not final"),
            _l("%(count)s of your sheets in %(stage)s are not final. Judging closes %(deadline)s."),
        ),
        Kind(
            "sheet_reopened",
            "judge",
            _l("the organiser reopens one of their sheets"),
            _l("%(event)s: a sheet is open again"),
            _l("The organiser reopened your sheet for %(entry)s (%(stage)s): %(reason)s"),
        ),
        Kind(
            "sheet_dropped",
            "judge",
            _l("the organiser drops one of their sheets that is not final"),
            _l("%(event)s: a sheet is dropped"),
            _l(
                "The organiser dropped your sheet for %(entry)s (%(stage)s): you no longer score "
                "it, and it is not counted. Reason: %(reason)s"
            ),
        ),
        Kind(
            "sheet_restored",
            "judge",
            _l("the organiser restores a dropped sheet"),
            _l("%(event)s: a dropped sheet is open again"),
            _l(
                "The organiser restored your sheet for %(entry)s (%(stage)s): it is as you left "
                "it; complete and finalise it."
            ),
        ),
        # --- operator ----------------------------------------------------------------------
        Kind(
            "finalist_standing",
            "operator",
            _l("the standing of a finalist of their district changes"),
            _l("%(event)s: %(kim)s is now %(standing)s"),
            _l("%(kim)s (entry %(entry)s): %(standing)s. %(reason)s"),
        ),
        Kind(
            "district_results",
            "operator",
            _l("results are published"),
            _l("%(event)s: results of your district"),
            _l("The results are published. %(outcome)s"),
        ),
    )
}


def kinds_for(role: str) -> list[Kind]:
    return [k for k in KINDS.values() if k.role == role]

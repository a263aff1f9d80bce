"""The transport-agnostic coaching core: flows, dialogue engine, plan. Never imports telegram.

- Flows as data: ``flow_model`` (the typed model), ``flows`` (the loader), ``flow_ids`` (the ids
  the code relies on), ``questions/`` (one module per family of question kinds, one registry).
- The dialogue: ``engine`` (load, dispatch, save), ``conversation`` (navigation for one user),
  ``commands`` (the command table), ``checkin_reminder`` and ``confirmations`` (prompts),
  ``question_view`` and ``plan_view`` (what the user reads), ``actions`` (finish steps).
- Weekly check-ins: ``checkin_schedule`` (the typed Reminder), ``checkin_claims`` (exactly-once
  sending), ``checkin_stats`` (streak and advice), ``schedule`` (DST-correct instants).
- Coaching: ``rules`` (the catalogue), ``coaching`` (the focus plan).
"""

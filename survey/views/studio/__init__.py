"""The researcher's studio: studies, questionnaires, consent, publishing, distribution and fieldwork,
in the browser, in English and Chinese. Views parse the request, call one service or selector and
render; every write goes through ``survey.services`` and is audited."""

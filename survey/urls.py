from django.urls import path

from .views import analyst, claims, home, participant, results
from .views.studio import consent, distribute, editor, fieldwork, publish, questionnaire, studies, testing

app_name = "survey"

STUDY = "studio/<slug:slug>/"
VERSION = STUDY + "v<int:number>/"

studio = [
    path("studio/", studies.home, name="studio"),
    path("studio/new/", studies.create, name="studio_new"),
    path("studio/example-xlsform.xlsx", questionnaire.template_download, name="studio_template"),
    path(STUDY, studies.overview, name="studio_study"),
    path(STUDY + "settings/", studies.settings, name="studio_settings"),
    path(STUDY + "samples/new/", studies.sample_edit, name="studio_sample_add"),
    path(STUDY + "samples/<slug:sample_slug>/", studies.sample_edit, name="studio_sample"),
    path(STUDY + "samples/<slug:sample_slug>/remove/", studies.sample_remove, name="studio_sample_remove"),
    path(STUDY + "members/new/", studies.member_add, name="studio_member_add"),
    path(STUDY + "members/<str:username>/remove/", studies.member_remove, name="studio_member_remove"),
    path(STUDY + "questionnaire/", questionnaire.questionnaire, name="studio_questionnaire"),
    path(STUDY + "import/", questionnaire.import_form, name="studio_import"),
    path(VERSION, questionnaire.version, name="studio_version"),
    path(VERSION + "questionnaire.<str:fmt>", questionnaire.version_export, name="studio_version_export"),
    path(VERSION + "new-draft/", questionnaire.new_draft, name="studio_new_draft"),
    path(VERSION + "title/", editor.form_settings, name="studio_form_settings"),
    path(VERSION + "pages/new/", editor.page_edit, name="studio_page_new"),
    path(VERSION + "pages/<str:code>/", editor.page_edit, name="studio_page"),
    path(VERSION + "pages/<str:code>/move/", editor.page_move, name="studio_page_move"),
    path(VERSION + "pages/<str:code>/delete/", editor.page_delete, name="studio_page_delete"),
    path(VERSION + "questions/new/", editor.question_edit, name="studio_question_new"),
    path(VERSION + "questions/<str:code>/", editor.question_edit, name="studio_question"),
    path(VERSION + "questions/<str:code>/move/", editor.question_move, name="studio_question_move"),
    path(VERSION + "questions/<str:code>/delete/", editor.question_delete, name="studio_question_delete"),
    path(VERSION + "lists/new/", editor.list_edit, name="studio_list_new"),
    path(VERSION + "lists/<str:name>/", editor.list_edit, name="studio_list"),
    path(VERSION + "lists/<str:name>/delete/", editor.list_delete, name="studio_list_delete"),
    path(VERSION + "check/", editor.check, name="studio_check"),
    path(VERSION + "preview/<str:language>/", testing.preview, name="studio_preview"),
    path(VERSION + "test/", testing.test_start, name="studio_test_start"),
    path(VERSION + "logic/", testing.logic, name="studio_logic"),
    path(VERSION + "publish/", publish.publish, name="studio_publish"),
    path(VERSION + "changes/", publish.diff, name="studio_diff"),
    path(STUDY + "test/<uuid:run_id>/", testing.test_run, name="studio_test_run"),
    path(
        STUDY + "test/<uuid:run_id>/p/<int:index>/relevance/",
        testing.test_relevance,
        name="studio_test_relevance",
    ),
    path(STUDY + "consent/", consent.consent_list, name="studio_consent"),
    path(STUDY + "consent/new/", consent.consent_edit, name="studio_consent_new"),
    path(STUDY + "consent/<int:number>/", consent.consent_edit, name="studio_consent_version"),
    path(STUDY + "distribute/", distribute.distribute, name="studio_distribute"),
    path(STUDY + "distribute/<slug:sample_slug>/qr.svg", distribute.qr_code, name="studio_qr"),
    path(STUDY + "quotas/", fieldwork.quotas, name="studio_quotas"),
    path(STUDY + "quotas/new/", fieldwork.quota_edit, name="studio_quota_new"),
    path(STUDY + "quotas/grid/", fieldwork.quota_grid, name="studio_quota_grid"),
    path(STUDY + "quotas/<int:quota_id>/", fieldwork.quota_edit, name="studio_quota"),
    path(STUDY + "quotas/<int:quota_id>/remove/", fieldwork.quota_remove, name="studio_quota_remove"),
    path(STUDY + "fieldwork/", fieldwork.monitor, name="studio_monitor"),
]

urlpatterns = [
    path("", home.index, name="index"),
    path("withdraw/", participant.withdraw, name="withdraw"),
    *studio,
    path("studies/<slug:slug>/", analyst.results, name="results"),
    path("studies/<slug:slug>/report/", claims.report, name="report"),
    path("studies/<slug:slug>/report/claims.<str:fmt>", claims.report_download, name="report_download"),
    path("studies/<slug:slug>/claims/", claims.registry, name="claims_registry"),
    path(
        "studies/<slug:slug>/claims/v<int:version>.toml",
        claims.registry_download,
        name="claims_registry_download",
    ),
    path("studies/<slug:slug>/claims/example.toml", claims.registry_example, name="claims_registry_example"),
    path("studies/<slug:slug>/results/", results.results_page, name="study_results"),
    path(
        "studies/<slug:slug>/results/download.<str:fmt>",
        results.results_download,
        name="study_results_download",
    ),
    path("studies/<slug:slug>/results/weights/", results.weighting_upload, name="weighting_upload"),
    path("studies/<slug:slug>/export/", analyst.export_start, name="export"),
    path("exports/<uuid:job_id>/", analyst.export_status, name="export_status"),
    path("exports/<uuid:job_id>/download/", analyst.export_download, name="export_download"),
    path("s/<slug:study_slug>/", participant.entry, name="entry"),
    path("s/<slug:study_slug>/p/<int:index>/", participant.page, name="page"),
    path("s/<slug:study_slug>/p/<int:index>/relevance/", participant.relevance, name="relevance"),
    path("s/<slug:study_slug>/continue/", participant.continue_code, name="continue_code"),
    path("s/<slug:study_slug>/thanks/", participant.thanks, name="thanks"),
    path("s/<slug:study_slug>/<slug:sample_slug>/", participant.entry, name="entry_sample"),
]

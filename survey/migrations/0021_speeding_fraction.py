"""A study's speeding fraction (default a third of the median duration), fixed from its first release.

Studies that released results before this migration released them at a third: their first release
is taken from what the disclosure ledger and the kept results and reports still hold (a ledger's
records, a hold after a withdrawal, a kept page or report with figures), so that their fraction is
fixed as it was used.
"""

from django.conf import settings
from django.db import migrations, models
from django.db.models import Min


def first_releases(apps, schema_editor):
    Study = apps.get_model("survey", "Study")
    found: dict[int, object] = {}

    def seen(rows):
        for study_id, when in rows:
            if when is not None and (study_id not in found or when < found[study_id]):
                found[study_id] = when

    DisclosureRecord = apps.get_model("survey", "DisclosureRecord")
    DisclosureLedger = apps.get_model("survey", "DisclosureLedger")
    seen(
        DisclosureRecord.objects.values("ledger__study_id")
        .annotate(first=Min("created_at"))
        .values_list("ledger__study_id", "first")
    )
    seen(DisclosureLedger.objects.filter(revision__startswith="held:").values_list("study_id", "updated_at"))
    ResultsSnapshot = apps.get_model("survey", "ResultsSnapshot")
    seen(ResultsSnapshot.objects.exclude(payload={}).values_list("study_id", "updated_at"))
    ReportSnapshot = apps.get_model("survey", "ReportSnapshot")
    seen(ReportSnapshot.objects.exclude(data={}).values_list("study_id", "updated_at"))
    for study_id, when in found.items():
        Study.objects.filter(pk=study_id).update(first_released_at=when)


class Migration(migrations.Migration):

    dependencies = [
        ('survey', '0020_kept_results_rebuilt'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='study',
            name='first_released_at',
            field=models.DateTimeField(blank=True, editable=False, help_text='When the first release (results, aggregate tables, claims report) was recorded in the disclosure ledger; the speeding fraction is fixed from then on.', null=True),
        ),
        migrations.AddField(
            model_name='study',
            name='speeding_fraction',
            field=models.FloatField(default=0.3333333333333333, help_text="A completed response counts as speeding when its duration is under this fraction of its sample's median duration (analysis.quality)."),
        ),
        migrations.AddConstraint(
            model_name='study',
            constraint=models.CheckConstraint(condition=models.Q(('speeding_fraction__gt', 0), ('speeding_fraction__lt', 1)), name='study_speeding_fraction_between_0_and_1'),
        ),
        migrations.RunPython(first_releases, migrations.RunPython.noop),
    ]

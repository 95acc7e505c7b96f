"""Kept results pages and claims reports are built again under this release's disclosure rules.

A results page or claims report is kept until the data change (``ResultsSnapshot``,
``ReportSnapshot``). This release changed what may be shown from the same data — weighted figures
split by weighting class, a group of one weight under k refused, refusals that name no group,
Rao–Scott tests withheld over hidden cells — so a page kept from before would go on showing what
the new rules hide (a hostile tester's weighting refusal, kept, still named the cell it was asked
about). Dropping them makes the next reader's request build the page again; nothing else is lost.
"""

from django.db import migrations


def drop_kept(apps, schema_editor):
    for name in ("ResultsSnapshot", "ReportSnapshot"):
        apps.get_model("survey", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("survey", "0019_disclosure_ledger")]

    operations = [migrations.RunPython(drop_kept, migrations.RunPython.noop)]

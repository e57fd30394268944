"""Donors' yearly reports (issue 19), frozen once sealed: the database refuses any change to a sealed report or to
any line, and any line added to a sealed report; on PostgreSQL it also refuses deleting a sealed report or its lines.

SQLite, the development default, does not refuse deletes: its test reset empties tables with DELETE (as for the
certificates' guard, donations 0003); there the PROTECT foreign keys and the absence of a delete path stand guard.
"""


import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

PG_UP = """
CREATE OR REPLACE FUNCTION impact_yearly_report_sealed() RETURNS trigger AS $$
BEGIN
    IF OLD.sealed THEN
        RAISE EXCEPTION 'yearly reports never change once issued: % refused; reissue one that supersedes it', TG_OP;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER impact_yearly_report_sealed
    BEFORE UPDATE OR DELETE ON impact_yearlyreport
    FOR EACH ROW EXECUTE FUNCTION impact_yearly_report_sealed();
CREATE OR REPLACE FUNCTION impact_yearly_report_line_frozen() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'yearly report lines never change: UPDATE refused';
    END IF;
    IF EXISTS (SELECT 1 FROM impact_yearlyreport r
               WHERE r.id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.report_id ELSE NEW.report_id END) AND r.sealed) THEN
        RAISE EXCEPTION 'yearly report lines of an issued report never change: % refused', TG_OP;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER impact_yearly_report_line_frozen
    BEFORE INSERT OR UPDATE OR DELETE ON impact_yearlyreportline
    FOR EACH ROW EXECUTE FUNCTION impact_yearly_report_line_frozen();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS impact_yearly_report_line_frozen ON impact_yearlyreportline;
DROP FUNCTION IF EXISTS impact_yearly_report_line_frozen();
DROP TRIGGER IF EXISTS impact_yearly_report_sealed ON impact_yearlyreport;
DROP FUNCTION IF EXISTS impact_yearly_report_sealed();
"""
SQLITE_UP = (
    """CREATE TRIGGER impact_yearly_report_no_update BEFORE UPDATE ON impact_yearlyreport WHEN OLD.sealed
BEGIN SELECT RAISE(ABORT, 'yearly reports never change once issued: reissue one that supersedes it'); END;""",
    """CREATE TRIGGER impact_yearly_report_line_no_update BEFORE UPDATE ON impact_yearlyreportline
BEGIN SELECT RAISE(ABORT, 'yearly report lines never change'); END;""",
    """CREATE TRIGGER impact_yearly_report_line_no_insert_sealed BEFORE INSERT ON impact_yearlyreportline
WHEN (SELECT sealed FROM impact_yearlyreport WHERE id = NEW.report_id)
BEGIN SELECT RAISE(ABORT, 'yearly report lines of an issued report never change'); END;""",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS impact_yearly_report_no_update;",
    "DROP TRIGGER IF EXISTS impact_yearly_report_line_no_update;",
    "DROP TRIGGER IF EXISTS impact_yearly_report_line_no_insert_sealed;",
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_UP, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DOWN, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('donations', '0008_e_resource'),
        ('impact', '0004_e_resource'),
        ('refurbishing', '0014_device_weee_weight'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='YearlyReport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.CharField(editable=False, max_length=40, unique=True, verbose_name='report number')),
                ('donor_name', models.CharField(max_length=200, verbose_name='donor, as named at issue')),
                ('year', models.PositiveSmallIntegerField(verbose_name='year')),
                ('time_zone', models.CharField(max_length=64, verbose_name='time zone of the calendar year')),
                ('issued_at', models.DateTimeField(verbose_name='issued at')),
                ('reason', models.TextField(blank=True, verbose_name='reason for reissue')),
                ('last_event_id', models.BigIntegerField(default=0, verbose_name='last event read')),
                ('figures', models.JSONField(blank=True, default=dict, verbose_name='figures')),
                ('factors', models.JSONField(blank=True, default=list, verbose_name='emission factors used')),
                ('sealed', models.BooleanField(default=False, editable=False, verbose_name='sealed')),
                ('donor', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='yearly_reports', to='donations.donor', verbose_name='donor')),
                ('issued_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='issued by')),
                ('supersedes', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='superseded_by', to='impact.yearlyreport', verbose_name='supersedes')),
            ],
            options={
                'verbose_name': 'yearly report',
                'verbose_name_plural': 'yearly reports',
                'ordering': ['-year', '-issued_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='YearlyReportLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('donation_reference', models.CharField(max_length=40, verbose_name='donation')),
                ('hub_code', models.CharField(max_length=10, verbose_name='hub')),
                ('category', models.CharField(max_length=20, verbose_name='category')),
                ('weee_category', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='WEEE category')),
                ('manufacturer', models.CharField(max_length=80, verbose_name='manufacturer')),
                ('model', models.CharField(blank=True, max_length=120, verbose_name='model')),
                ('serial_number', models.CharField(blank=True, max_length=80, verbose_name='serial number')),
                ('asset_tag', models.CharField(blank=True, max_length=80, verbose_name='donor asset tag')),
                ('received_at', models.DateTimeField(blank=True, null=True, verbose_name='received in the year at')),
                ('outcome', models.CharField(blank=True, choices=[('', 'none in the year'), ('reused', 'reused'), ('recycled', 'recycled'), ('missing', 'missing')], max_length=10, verbose_name='outcome in the year')),
                ('outcome_at', models.DateTimeField(blank=True, null=True, verbose_name='outcome at')),
                ('weight_kg', models.DecimalField(blank=True, decimal_places=2, max_digits=9, null=True, verbose_name='weight (kg)')),
                ('weight_basis', models.CharField(blank=True, choices=[('', 'not recorded'), ('measured', 'measured at the bench'), ('declared', 'declared by the donor or a hardware report'), ('model', 'default for the model'), ('category', 'default for the category'), ('batch', 'share of the batch the recycler weighed')], max_length=10, verbose_name='weight basis')),
                ('weight_source', models.CharField(blank=True, max_length=200, verbose_name='weight source')),
                ('country', models.CharField(blank=True, max_length=2, verbose_name='country reached')),
                ('project_kind', models.CharField(blank=True, max_length=20, verbose_name='project kind')),
                ('people', models.PositiveIntegerField(default=0, verbose_name='people reached')),
                ('batch_reference', models.CharField(blank=True, max_length=40, verbose_name='recycling batch')),
                ('vendor', models.CharField(blank=True, max_length=120, verbose_name='downstream vendor')),
                ('streams', models.CharField(blank=True, max_length=200, verbose_name='waste streams')),
                ('co2e_kg', models.DecimalField(decimal_places=5, default=0, max_digits=16, verbose_name='kg CO2e avoided')),
                ('device', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='refurbishing.device', verbose_name='device')),
                ('report', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='impact.yearlyreport', verbose_name='report')),
            ],
            options={
                'verbose_name': 'yearly report line',
                'verbose_name_plural': 'yearly report lines',
                'ordering': ['report', 'id'],
            },
        ),
        migrations.AddConstraint(
            model_name='yearlyreport',
            constraint=models.UniqueConstraint(condition=models.Q(('supersedes__isnull', True)), fields=('donor', 'year'), name='yearly_report_one_first_per_donor_and_year'),
        ),
        migrations.AddConstraint(
            model_name='yearlyreportline',
            constraint=models.UniqueConstraint(fields=('report', 'device'), name='yearly_report_line_once_per_device'),
        ),
        migrations.RunPython(forwards, backwards),
    ]

"""One account per e-mail address, whatever its case, held by the database (people sign in with the address).

``hubs.accounts.account_create`` checks first and says so in words; this index settles two sign-ups that pass
that check at the same moment. Accounts without an address (deleted accounts, some staff) are left out.
"""

from django.db import migrations

INDEX = "hubs_user_email_unique_ci"


def refuse_duplicates(apps, schema_editor):
    User = apps.get_model("auth", "User")
    seen: dict[str, str] = {}
    clashes = []
    for username, email in User.objects.exclude(email="").values_list("username", "email").order_by("pk"):
        key = email.lower()
        if key in seen:
            clashes.append(f"{email} ({seen[key]}, {username})")
        else:
            seen[key] = username
    if clashes:
        raise RuntimeError(
            "Several accounts share an e-mail address; give each its own (or empty one) in the admin, then migrate "
            "again: " + "; ".join(clashes[:20])
        )


class Migration(migrations.Migration):
    dependencies = [
        ("hubs", "0003_accounts_invitations_notifications"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(refuse_duplicates, migrations.RunPython.noop, elidable=True),
        migrations.RunSQL(
            f"CREATE UNIQUE INDEX {INDEX} ON auth_user (lower(email)) WHERE email <> ''",
            f"DROP INDEX {INDEX}",
        ),
    ]

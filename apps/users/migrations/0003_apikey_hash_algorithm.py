"""API-key hashes become HMAC-SHA256 with API_KEY_PEPPER (SPEC §3). Existing rows hold an
unkeyed SHA-256, which cannot be turned into the keyed one without the plain key: they are
marked `sha256` and rehashed on their first successful use (apps.users.services)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("users", "0002_notify_on_review_requested")]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="hash_algorithm",
            field=models.CharField(
                choices=[("hmac-sha256", "Hmac Sha256"), ("sha256", "Sha256")],
                default="sha256",
                max_length=16,
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="apikey",
            name="hash_algorithm",
            field=models.CharField(
                choices=[("hmac-sha256", "Hmac Sha256"), ("sha256", "Sha256")],
                default="hmac-sha256",
                max_length=16,
            ),
        ),
    ]

# An email is its own content now (to, subject, bodies), not a view of one notification; the
# notifications app links to the email that carried each notification. Rows that were never
# rendered went back to the digest in notifications 0002.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("emails", "0001_initial"),
        ("notifications", "0002_digest_email"),
    ]

    operations = [
        migrations.RunSQL(
            "DELETE FROM emails_emaildelivery WHERE status = 'pending' AND subject = ''",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RemoveField(model_name="emaildelivery", name="notification"),
        migrations.AddField(
            model_name="emaildelivery",
            name="body_html",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AlterField(
            model_name="emaildelivery", name="body_text", field=models.TextField()
        ),
        migrations.AlterField(
            model_name="emaildelivery", name="subject", field=models.CharField(max_length=255)
        ),
    ]

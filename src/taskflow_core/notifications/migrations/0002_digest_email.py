# Read-aware digest email (docs/background.md): a notification waits for its email in
# `email_due_at` and points at the email that carried it. Emails that had not been rendered yet
# (pending, never attempted) are handed back to the digest, which sends them at once; the next
# emails migration then deletes those rows.

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
UPDATE notifications_notification n SET email_due_at = now()
FROM emails_emaildelivery d
WHERE d.notification_id = n.id AND d.status = 'pending' AND d.subject = '';
UPDATE notifications_notification n SET email_id = d.id
FROM emails_emaildelivery d
WHERE d.notification_id = n.id AND NOT (d.status = 'pending' AND d.subject = '');
"""


class Migration(migrations.Migration):
    dependencies = [
        ("emails", "0001_initial"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="email",
            field=models.ForeignKey(
                blank=True,
                help_text="The (digest) email that carried this notification.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="emails.emaildelivery",
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="email_due_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="notification",
            name="type",
            field=models.CharField(
                choices=[
                    ("task_assigned", "Task Assigned"),
                    ("task_status_changed", "Task Status Changed"),
                    ("task_commented", "Task Commented"),
                    ("mentioned", "Mentioned"),
                    ("deadline_approaching", "Deadline Approaching"),
                    ("task_overdue", "Task Overdue"),
                ],
                max_length=30,
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("email_due_at__isnull", False), ("read_at__isnull", True)),
                fields=["email_due_at"],
                name="notification_email_waiting",
            ),
        ),
        migrations.RunSQL(FORWARD, reverse_sql=migrations.RunSQL.noop),
    ]

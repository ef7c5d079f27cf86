# Read-aware digest email (docs/background.md): a notification that wants an email waits for
# it in `email_due_at`; two new types.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_notification_email"),
    ]

    operations = [
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
    ]

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("emails", "0002_emaildelivery_body_html_recipient"),
        ("notifications", "0002_notification_email"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="emaildelivery",
            name="notification",
        ),
    ]

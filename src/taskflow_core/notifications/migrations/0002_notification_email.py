import django.db.models.deletion
from django.db import migrations, models


def link_existing_emails(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Move each delivery's link to its notification onto the notification, and record the
    account it is for (so deleting the account still deletes its mail). A delivery still waiting
    for its first attempt had no text yet (it was rendered when sent): it goes out with the
    notification's message."""
    EmailDelivery = apps.get_model("emails", "EmailDelivery")
    Notification = apps.get_model("notifications", "Notification")
    for delivery in EmailDelivery.objects.select_related("notification").iterator():
        notification = delivery.notification
        Notification.objects.filter(pk=notification.pk).update(email=delivery.pk)
        delivery.recipient_id = notification.recipient_id
        delivery.save(update_fields=["recipient"])
        if not delivery.subject:
            delivery.subject = notification.message[:255]
            delivery.body_text = notification.message + "\n"
            delivery.save(update_fields=["subject", "body_text"])


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("emails", "0002_emaildelivery_body_html_recipient"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="email",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="notifications",
                to="emails.emaildelivery",
            ),
        ),
        migrations.RunPython(link_existing_emails, migrations.RunPython.noop),
    ]

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from sustain.core.forms import SecretField, kept_secret
from sustain.mail import imap
from sustain.mail.models import DomainRoute, InboundMail, Mailbox, MessageRef


class MailboxForm(forms.ModelForm):
    password = SecretField(help_text="Leave empty to keep the password already stored.")

    class Meta:
        model = Mailbox
        fields = [
            "name",
            "address",
            "host",
            "port",
            "security",
            "username",
            "password",
            "folder",
            "after_fetch",
            "move_to",
            "organization",
            "team",
            "active",
        ]

    def clean_password(self) -> str:
        return kept_secret(self, "password")

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("after_fetch") == Mailbox.AfterFetch.MOVE and not data.get("move_to"):
            self.add_error("move_to", "Name the folder fetched mail is moved to.")
        if data.get("address"):
            data["address"] = data["address"].strip().lower()
        return data


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = [
        "name",
        "address",
        "host",
        "security",
        "organization",
        "team",
        "active",
        "last_polled_at",
        "last_error",
    ]
    list_filter = ["active", "security"]
    actions = ["poll_now"]

    @admin.action(description="Poll the selected mailboxes now")
    def poll_now(self, request: HttpRequest, queryset: QuerySet[Mailbox]) -> None:
        for mailbox in queryset:
            result = imap.poll(mailbox)
            if result is None:
                self.message_user(request, f"{mailbox.name}: inactive or being polled.")
            elif result.error:
                self.message_user(request, f"{mailbox.name}: {result.error}", messages.ERROR)
            else:
                self.message_user(request, f"{mailbox.name}: {result.fetched} fetched.")


@admin.register(DomainRoute)
class DomainRouteAdmin(admin.ModelAdmin):
    list_display = ["domain", "organization"]
    search_fields = ["domain"]


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):
    list_display = ["received_at", "sender", "subject", "status", "reason", "ticket"]
    list_filter = ["status", "mailbox"]
    search_fields = ["message_id", "sender", "subject"]
    raw_id_fields = ["ticket", "answers", "comment", "organization", "released_by"]
    readonly_fields = ["message_id", "raw_path", "size", "text"]
    show_full_result_count = False


@admin.register(MessageRef)
class MessageRefAdmin(admin.ModelAdmin):
    list_display = ["message_id", "ticket", "direction", "created_at"]
    search_fields = ["message_id"]
    raw_id_fields = ["ticket"]

from django.contrib import admin

from apps.chat.models import ChatMessage, ChatSession


class ChatMessageInline(admin.TabularInline):
    model = ChatMessage
    extra = 0
    fields = ["role", "content", "status", "model", "cost", "created_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "model", "updated_at"]
    search_fields = ["title", "user__email"]
    readonly_fields = ["user", "credential", "created_at", "updated_at"]
    inlines = [ChatMessageInline]

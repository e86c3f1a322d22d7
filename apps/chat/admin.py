from django.contrib import admin

from apps.chat.models import ChatMessage, ChatSession, CopilotProposal, CopilotRun


class ChatMessageInline(admin.TabularInline):
    model = ChatMessage
    extra = 0
    fields = ("role", "content", "tool_name", "status", "model", "cost", "created_at")
    readonly_fields = fields
    can_delete = False


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "model", "updated_at"]
    search_fields = ["title", "user__email"]
    readonly_fields = ["user", "credential", "created_at", "updated_at"]
    inlines = [ChatMessageInline]


@admin.register(CopilotProposal)
class CopilotProposalAdmin(admin.ModelAdmin):
    list_display = ["name", "session", "status", "created_at"]
    list_filter = ["status"]
    readonly_fields = ["session", "message", "base_graph", "saved_graph", "created_at"]


@admin.register(CopilotRun)
class CopilotRunAdmin(admin.ModelAdmin):
    list_display = ["graph_name", "session", "status", "created_at"]
    list_filter = ["status"]
    readonly_fields = ["session", "message", "graph", "execution", "created_at", "decided_at"]

"""The inbox's URLs, each behind the admin's login (``admin_view``) and its own permission."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from tgadmin.panel.inbox import views

app_name = "inbox"

urlpatterns = [
    path("", admin.site.admin_view(views.inbox), name="index"),
    path("list", admin.site.admin_view(views.inbox_list), name="list"),
    path("media/<int:message_id>", admin.site.admin_view(views.media_file), name="media"),
    path(
        "<int:conversation_id>/",
        admin.site.admin_view(views.conversation_page),
        name="conversation",
    ),
    path(
        "<int:conversation_id>/thread", admin.site.admin_view(views.thread_fragment), name="thread"
    ),
    path("<int:conversation_id>/reply", admin.site.admin_view(views.reply), name="reply"),
    path("<int:conversation_id>/note", admin.site.admin_view(views.note), name="note"),
    path("<int:conversation_id>/assign", admin.site.admin_view(views.assign), name="assign"),
    path("<int:conversation_id>/close", admin.site.admin_view(views.close), name="close"),
    path("<int:conversation_id>/reopen", admin.site.admin_view(views.reopen), name="reopen"),
    path("<int:conversation_id>/tag", admin.site.admin_view(views.tag), name="tag"),
]

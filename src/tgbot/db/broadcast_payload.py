"""What a broadcast sends, as SQL over ``broadcasts b``: one definition for the dispatcher's
expansion and the panel's test send, so a test send is exactly what recipients will get.

Plain data with no imports: the admin panel reads it too.
"""

# The Bot API parameters for broadcast ``b`` (its method is ``b.method``): its text — the
# caption when a file is attached (the file itself is ``b.upload_id``, added by the dispatcher
# as its file_id or uploaded once) —, its parse_mode when it has one (older broadcasts are plain
# text) and its URL buttons as an inline keyboard when it has any.
BROADCAST_PAYLOAD_SQL = """jsonb_strip_nulls(jsonb_build_object(
    CASE WHEN b.upload_id IS NULL THEN 'text' ELSE 'caption' END, b.text,
    'parse_mode', b.parse_mode,
    'reply_markup', CASE WHEN b.buttons IS NOT NULL
                    THEN jsonb_build_object('inline_keyboard', b.buttons) END
))"""

"""The operator inbox: waiting conversations first, a chat-like conversation page, live updates.

``queries`` reads (no HTTP), ``actions`` writes in one transaction each and audits (no HTTP),
``views`` parses requests and renders templates, ``urls`` wraps them in the admin's login and
permission checks. Live updates are short polling of server-rendered fragments (docs/admin.md).
"""

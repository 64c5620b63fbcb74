"""The ``.conn`` API: the request pipeline, body codecs, X-Zato headers and ping reports."""

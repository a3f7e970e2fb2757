"""The edge: HTTP pages, the JSON API and the board's WebSocket, over the feature packages.

app          builds the Starlette application, its middleware and error handlers
middleware   the edge guards (body size, security headers) and CSRF
auth         who is asking, bound to the request (sessions, bearer tokens, role guards)
forms        the one form reader and the one JSON body reader
convertors   the `{name:id}` path convertor
templating   Jinja2 rendering
api_models, api_schema   the /api/v1 bodies and the OpenAPI document built from them
routes/      one module per feature

Nothing below server/web imports it.
"""

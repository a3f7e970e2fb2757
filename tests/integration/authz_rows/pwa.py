from tests.integration.authz_rows import public

ROWS = [
    public("GET", "/sw.js", note="the service worker's script: static files only, the same for everyone"),
]

"""Server-rendered pages on the GOV.UK Design System: the same operations and permissions as the API.

Every form on these pages calls the API's own route function (app/web/calls.py), so one check decides
who may do what, whether the caller arrives with a bearer token or with the web session cookie.
"""

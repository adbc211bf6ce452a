"""The store API: an authenticated aiohttp service the shop's backend posts orders to.

``create_app`` (``store.api.app``) builds it; ``python -m store.api`` (or,
once wired, ``python -m store serve-api``) runs it on
``bind_host:store_api_port``. ``store.api.clicks`` builds the signed
click-tracking links chat cards use.
"""

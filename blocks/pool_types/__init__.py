"""What the pools and the registry share, below both: the records a pool store hands out and
the :class:`~blocks.pool_types.store.WorkPoolStore` protocol that every
``registry.pool_store()`` returns.

The registry names these types without importing :mod:`blocks.pools`, which sits above it
(``WorkPool`` loads and saves through a registry) and implements the protocol on the registry's
database (``blocks.pools.store_protocol.LocalPoolStore``); ``blocks.remote.pools`` implements it
over HTTP. Import them from :mod:`blocks.pools` modules as before.
"""

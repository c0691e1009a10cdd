"""The client of ``blocks server``: a Registry over HTTP (``BLOCKS_API_URL``).

Same layer as :mod:`blocks.registry`: it may use the model, the codec, the errors, the
settings and :mod:`blocks.wire`, never the server, the CLI or rotation's internals.
"""

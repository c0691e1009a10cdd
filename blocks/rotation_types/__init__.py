"""What rotation and the registry share, below both: the policy type, the decoded rotation rows
and outcomes, and the :class:`~blocks.rotation_types.service.RotationService` protocol that every
``registry.rotation(actor)`` returns.

The registry (``block.rotation``, ``registry.rotation()``) names these types without importing
:mod:`blocks.rotation`, which sits above it and implements the protocol (the engine, rotators,
plug-ins, the HTTP client). Import them from :mod:`blocks.rotation` as before; this package holds
no logic of its own beyond the types' own checks and wire forms.
"""

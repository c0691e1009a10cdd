"""The ``blocks`` command. Each ``*_cmds`` module adds its sub-commands via ``register()``."""

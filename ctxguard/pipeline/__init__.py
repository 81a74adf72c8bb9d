"""The steps every entry point runs (see ``check`` for the order and ``run`` for the lists)."""

"""Test support: wheel and sdist factories, the local index fixture."""

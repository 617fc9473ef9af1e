"""Repository functions: synchronous, over a Core ``Connection``, run by ``Database``."""

"""Delivery channels: one package per kind behind the ``Channel`` protocol of ``base``."""

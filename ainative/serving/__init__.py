"""Serving an exported model repository with MLServer (``ainative serve``)."""

"""Channel backends: how a follow-up reaches the customer (see base.py for the interface)."""

from .base import BaseChannel, ChannelError, SendResult, get_channel

__all__ = ["BaseChannel", "ChannelError", "SendResult", "get_channel"]

"""Transcripts: formats -> :class:`Transcript`. Pure parsing; no database or web."""

from alliance.transcripts.model import ROLES, Role, Transcript, Utterance

__all__ = ["ROLES", "Role", "Transcript", "Utterance"]

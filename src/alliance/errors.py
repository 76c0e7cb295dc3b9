"""The one error hierarchy of alliance.

Every error that reaches a user is an :class:`AllianceError`. The CLI and the web
application turn these into a readable message and an exit code or status; anything
else escaping is a bug.

::

    AllianceError
    ├── InstrumentError        an instrument spec is malformed or unknown
    ├── ScoringError           a response cannot be scored (bad item, value, shape)
    ├── ReliabilityError       too little or degenerate data for a reliability estimate
    ├── AnalysisError          a statistical model cannot be fitted to the data given
    ├── InputFileError         a data file cannot be read (missing, wrong format, corrupt)
    ├── BatchError             a batch run cannot start, resume or finish (output, engine)
    ├── CaseFileError          a monitoring case file fails its schema
    ├── PolicyError            a monitoring policy file is malformed
    ├── AlertStateError        an alert status change that is not allowed
    ├── TranscriptError        a transcript cannot be parsed
    ├── CodingError            the coder, codebook, corpus or heads are unusable
    │   └── ModelError         the embedding model is missing or fails verification
    ├── DeidentificationError  de-identification input is unusable
    ├── TrainingError          a practice case, response or session is unusable
    ├── FhirError              a FHIR resource is malformed or not one alliance can read
    ├── StoreError             the database layer refuses an operation
    │   ├── BackupError        a backup cannot be written, verified or restored
    │   ├── NotFound           the object does not exist *for this actor*
    │   └── PermissionDenied   the actor may see the object but not do this
    ├── InputError             a form field or request value is missing or malformed
    │   └── ImportRefused      a bulk import file has problems (every one listed)
    ├── AuthError              log-in, session or token problems
    │   ├── CsrfError          a form without this site's CSRF token
    │   ├── LinkGone           a survey link that was used, revoked or has expired
    │   └── Throttled          too many failed log-ins from one account or address
    ├── ConfigError            configuration (keys, URLs, paths) is missing or wrong
    └── DeliveryError          a survey link could not be handed to the mail or SMS system
        ├── RecipientRefused   the server refused this recipient at submission (a bounce)
        ├── MessageRejected    the server refused the message itself at submission (a bounce)
        ├── DeliveryUnreachable  no server answered (down, wrong host or port, timeout, TLS)
        └── DeliveryAuthError  the server refused the configured login

Each error carries a plain-language message; some carry structured context
(``path``, ``item``, ``value``, ``line``) that callers may show or log. Delivery errors
never carry the recipient's address or the message body: they are stored as send rows.
"""

from __future__ import annotations

from typing import Any


class AllianceError(Exception):
    """Base class of every error alliance raises on purpose."""

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __str__(self) -> str:
        return self.message


class InstrumentError(AllianceError):
    """An instrument spec is malformed, inconsistent or unknown."""


class ScoringError(AllianceError):
    """A response cannot be scored: unknown item, non-numeric or out-of-range value."""


class ReliabilityError(AllianceError):
    """A reliability estimate cannot be computed from the data given."""


class AnalysisError(AllianceError):
    """A statistical model (e.g. alliance-outcome) cannot be fitted to the data given."""


class InputFileError(AllianceError):
    """A data file cannot be read: missing, unsupported format or corrupt."""


class BatchError(AllianceError):
    """A batch run cannot start, resume or finish: its output or parts folder is in the way,
    it was started with other input or options, or the engine it asks for is missing."""


class CaseFileError(AllianceError):
    """A monitoring case file does not match its schema."""


class PolicyError(AllianceError):
    """A monitoring policy file is malformed."""


class AlertStateError(AllianceError):
    """An alert status change that the alert life cycle does not allow."""


class TranscriptError(AllianceError):
    """A transcript cannot be parsed (names the file and line where known)."""


class CodingError(AllianceError):
    """The codebook, labelled corpus, classifier heads or coder are unusable."""


class ModelError(CodingError):
    """The embedding model is missing, cannot load, or fails its checksum."""


class DeidentificationError(AllianceError):
    """De-identification input (text or roster) is unusable."""


class TrainingError(AllianceError):
    """A training case file, a trainee response or a practice session is unusable."""


class FhirError(AllianceError):
    """A FHIR resource or Bundle is malformed, invalid, or not one alliance can read."""


class StoreError(AllianceError):
    """The database layer refuses an operation."""


class BackupError(StoreError):
    """A backup cannot be written, verified against its manifest, or restored."""


class NotFound(StoreError):
    """The object does not exist for this actor (foreign objects look absent)."""


class PermissionDenied(StoreError):
    """The actor may see the object but may not perform this action."""


class InputError(AllianceError):
    """A form field or request value is missing or malformed (not a store refusal)."""


class ImportRefused(InputError):
    """A bulk import file has problems; nothing was written. ``problems`` lists every one
    as (where, field, why)."""

    def __init__(self, message: str, problems: list[tuple[str, str, str]]) -> None:
        super().__init__(message)
        self.problems = problems


class AuthError(AllianceError):
    """Log-in, session, CSRF or survey-token problems."""


class CsrfError(AuthError):
    """A state-changing form did not carry this site's CSRF token."""


class LinkGone(AuthError):
    """A survey link that was used, revoked or has expired (``context["state"]`` says which)."""


class Throttled(AuthError):
    """Too many failed log-ins; the next attempt must wait."""


class ConfigError(AllianceError):
    """Configuration (database URL, encryption key, paths) is missing or wrong."""


class DeliveryError(AllianceError):
    """A message could not be handed over for delivery (e-mail or SMS).

    ``permanent`` tells the worker whether trying again later can help.
    """

    permanent = False


class RecipientRefused(DeliveryError):
    """The server refused the recipient at submission (unknown mailbox, bad number)."""

    permanent = True


class MessageRejected(DeliveryError):
    """The server refused the message itself at submission (policy, size, content)."""

    permanent = True


class DeliveryUnreachable(DeliveryError):
    """No server answered: down, wrong host or port, timeout, or a failed TLS handshake."""


class DeliveryAuthError(DeliveryError):
    """The server refused the configured user name and password."""

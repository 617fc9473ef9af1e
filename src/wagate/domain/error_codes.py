"""One table of what a failure means to each dialect: Devino's status codes and WAMM's strings.

Every door reads this table: the Devino-style status callbacks (``errorCode`` 2000–2313), the
Devino-style request refusals (the code named in the description), and the WAMM-style error
strings. A failure is known by wagate's error code (``error.code`` of a failed message, a
``PolicyError.code``, a ``SendError.code``); channels translate their provider's codes into
wagate codes (the cloud channel: ``channels/cloud/errors.py``), and ``CLOUD_STATUS_CODES`` says
which Devino code each Cloud API error code must end up as. Tests hold the two together for
every Cloud API code the cloud channel knows.

Pure data and lookups, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: WAMM strings used here (the same words as ``api/compat/wamm_dialect.py``, which owns the rest).
WAMM_FAIL = "fail execution"
WAMM_NOT_AUTHORIZED = "acc not authorized"
WAMM_NO_WHATSAPP = "no WhatsApp on the number"
WAMM_NOT_CHECKED = "phone not checked for WhatsApp, please retry"

#: Devino's "unknown error", for anything the table does not name.
DEVINO_UNKNOWN = 2313


@dataclass(frozen=True, slots=True)
class ErrorMeaning:
    """What one wagate error code is called in each dialect."""

    devino: int
    wamm: str = WAMM_FAIL


def _m(devino: int, wamm: str = WAMM_FAIL) -> ErrorMeaning:
    return ErrorMeaning(devino, wamm)


#: wagate error code → its meaning. Cloud channel codes, device and generic channel codes,
#: policy refusals, and the aliases older records carry.
ERRORS: dict[str, ErrorMeaning] = {
    # routing and billing (the hosted service's own failures)
    "no_route": _m(2000),
    "unknown_operator": _m(2000),
    "billing": _m(2002),
    "payment_required": _m(2002),
    "payment_issue": _m(2002),
    "insufficient_funds": _m(2005),
    # spam and ecosystem protection
    "spam": _m(2302),
    "spam_rate_limited": _m(2302),
    "meta_declined": _m(2302),
    "recipient_opted_out": _m(2302),
    "recipient_in_experiment": _m(2302),
    # duplicates and validity
    "duplicate": _m(2009),
    "duplicate_message": _m(2009),
    "expired": _m(2010),
    "validity_expired": _m(2010),
    # throughput: "too many messages in a short time, send again"
    "rate_limited": _m(2301),
    "pair_rate_limited": _m(2301),
    "too_many_messages": _m(2301),
    "daily_cap_exceeded": _m(2301),
    "tier_limit_exceeded": _m(2301),
    # the content
    "text_too_long": _m(2300),
    "too_long": _m(2300),
    "media_unsupported": _m(2303),
    "media_too_large": _m(2303),
    "unsupported_type": _m(2303),
    "media_download_error": _m(2303),
    "media_upload_error": _m(2303),
    "media_unavailable": _m(2303),
    "caption_too_long": _m(2304),
    # the recipient
    "not_on_whatsapp": _m(2305, WAMM_NO_WHATSAPP),
    "recipient_not_on_whatsapp": _m(2305, WAMM_NO_WHATSAPP),
    "recipient_is_sender": _m(2307),
    # templates
    "template_params": _m(2308),
    "template_param_count": _m(2308),
    "template_params_mismatch": _m(2308),
    "template_param_format": _m(2308),
    "template_not_found": _m(2309),
    "template_not_approved": _m(2309),
    "template_paused": _m(2309),
    "template_disabled": _m(2309),
    "template_language": _m(2310),
    "template_language_not_found": _m(2310),
    "template_param_too_long": _m(2311),
    "template_too_long": _m(2311),
    # the 24-hour window
    "outside_service_window": _m(2312),
    "service_window": _m(2312),
    "outside_window": _m(2312),
    "window_closed": _m(2312),
    # the channel's account: the operator must act; WAMM calls it "not authorized"
    "auth_failed": _m(DEVINO_UNKNOWN, WAMM_NOT_AUTHORIZED),
    "permission_denied": _m(DEVINO_UNKNOWN, WAMM_NOT_AUTHORIZED),
    "channel_not_registered": _m(DEVINO_UNKNOWN, WAMM_NOT_AUTHORIZED),
    "account_locked": _m(DEVINO_UNKNOWN, WAMM_NOT_AUTHORIZED),
    "device_offline": _m(DEVINO_UNKNOWN, WAMM_NOT_AUTHORIZED),
    "session_disconnected": _m(DEVINO_UNKNOWN, WAMM_NOT_AUTHORIZED),
    # the provider's own trouble, or a request it refused for no reason the seed names
    "provider_error": _m(DEVINO_UNKNOWN),
    "provider_unavailable": _m(DEVINO_UNKNOWN),
    "provider_rejected": _m(DEVINO_UNKNOWN),
    "provider_failed": _m(DEVINO_UNKNOWN),
    "invalid_parameter": _m(DEVINO_UNKNOWN),
    "missing_parameter": _m(DEVINO_UNKNOWN),
    "template_policy_violation": _m(DEVINO_UNKNOWN),
    # the provider could not be reached or asked: nothing certain about the number
    "provider_unreachable": _m(DEVINO_UNKNOWN, WAMM_NOT_CHECKED),
    "provider_timeout": _m(DEVINO_UNKNOWN, WAMM_NOT_CHECKED),
    "phone_check_failed": _m(DEVINO_UNKNOWN, WAMM_NOT_CHECKED),
    "phone_check_pending": _m(DEVINO_UNKNOWN, WAMM_NOT_CHECKED),
}

#: Cloud API (Graph) error code → the Devino status code a failure with it is reported as.
#: The specification the cloud channel's own codes are tested against; numbers the table does
#: not name are "unknown error" (2313).
CLOUD_STATUS_CODES: dict[int, int] = {
    # throughput
    130429: 2301,  # rate limit hit
    131056: 2301,  # (business, consumer) pair rate limit
    4: 2301,  # application request limit
    80007: 2301,  # WABA rate limit
    613: 2301,  # calls per hour exceeded
    131048: 2302,  # spam rate limit
    # temporary platform trouble: nothing the seed names
    1: 2313,
    2: 2313,
    131000: 2313,
    131016: 2313,
    131057: 2313,  # account in maintenance mode
    # credentials and account
    190: 2313,
    10: 2313,
    200: 2313,
    3: 2313,
    133010: 2313,
    131031: 2313,
    131042: 2002,  # business eligibility: payment issue
    # the recipient
    131026: 2305,  # not a WhatsApp user (or an old app)
    131047: 2312,  # more than 24 hours since the customer last wrote
    131049: 2302,  # not delivered to keep the ecosystem healthy
    131050: 2302,  # the user stopped marketing messages
    131021: 2307,  # recipient is the sender
    130472: 2302,  # the number is part of an experiment
    # the message
    100: 2313,
    131008: 2313,
    131009: 2313,
    131051: 2303,  # unsupported message type
    131052: 2303,  # media download error
    131053: 2303,  # media upload error
    # templates
    132000: 2308,  # parameter count mismatch
    132001: 2309,  # template does not exist (in this language)
    132005: 2311,  # translated text too long
    132007: 2313,  # template format character policy violated
    132012: 2308,  # parameter format mismatch
    132015: 2309,  # template paused
    132016: 2309,  # template disabled
}

_PROVIDER_NUMBER = re.compile(r"(?<!\d)(\d{1,6})(?!\d)")
_GRAPH_IN_TEXT = re.compile(r"Graph error (\d{1,6})")


def meaning(code: str | None, message: str | None = None) -> ErrorMeaning:
    """The meaning of a failure known by wagate's ``code`` (and, as a fallback, its message).

    A code that is a Cloud API number (``131026``, ``cloud_131047``) is looked up among Cloud
    codes; so is a message naming one (``… (Graph error 131047)``) when the code says no more
    than "unknown error".
    """
    known = ERRORS.get(code) if code else None
    if known is not None and known.devino != DEVINO_UNKNOWN:
        return known
    if code:
        match = _PROVIDER_NUMBER.search(code)
        if match and int(match.group(1)) in CLOUD_STATUS_CODES:
            return _cloud(int(match.group(1)))
    if message:
        match = _GRAPH_IN_TEXT.search(message)
        if match and int(match.group(1)) in CLOUD_STATUS_CODES:
            return _cloud(int(match.group(1)))
    return known or ErrorMeaning(DEVINO_UNKNOWN)


def _cloud(number: int) -> ErrorMeaning:
    devino = CLOUD_STATUS_CODES[number]
    wamm = {2305: WAMM_NO_WHATSAPP}.get(devino, WAMM_FAIL)
    if number in (190, 10, 200, 3, 133010, 131031):
        wamm = WAMM_NOT_AUTHORIZED
    return ErrorMeaning(devino, wamm)


def devino_status_code(code: str | None, message: str | None = None) -> int:
    return meaning(code, message).devino


def wamm_string(code: str | None) -> str:
    return meaning(code).wamm

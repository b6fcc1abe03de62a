"""Where messages may go. SMS and faxes cost the insurer per message and some destinations
cost far more (premium-rate, satellite, international): a scripted call that sends them is
toll fraud, and a spoofed caller number that gets them is a way to bomb a victim. So every
number the outbox accepts is checked here, whoever asks for the message.

A number is refused when its country is not the home region or one configured
(`outbound_regions`), or when it is premium-rate, shared-cost or on a non-geographic
network (satellite phones, international networks) unless `outbound_allow_premium`."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

# Non-geographic country codes (satellite, international networks, global freephone) are
# listed by phonenumbers under the pseudo-region "001".
_NON_GEOGRAPHIC = "001"
_COSTLY_TYPES = frozenset(
    {
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.UAN,
        PhoneNumberType.PERSONAL_NUMBER,
    }
)
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


@dataclass(frozen=True)
class Destinations:
    """The home region (the country callers dial from without a prefix) and what else the
    settings allow."""

    region: str = "IR"
    regions: tuple[str, ...] = ()
    allow_premium: bool = False

    def refusal(self, kind: str, to: str) -> str | None:
        """Why a message of `kind` may not go to `to`, or None. Email addresses are not
        checked here: an email costs nothing to send."""
        if kind == "email":
            return None
        try:
            number = phonenumbers.parse(to, None)
        except phonenumbers.NumberParseException:
            return "not_a_number"
        countries = set(phonenumbers.region_codes_for_country_code(number.country_code or 0))
        if _NON_GEOGRAPHIC in countries or not countries:
            return None if self.allow_premium else "non_geographic"
        if countries.isdisjoint({self.region, *self.regions}):
            return "international"
        if phonenumbers.number_type(number) in _COSTLY_TYPES and not self.allow_premium:
            return "premium"
        return None

    def domestic_mobile(self, e164: str) -> bool:
        """A valid mobile number of the home region: the only caller number a message may be
        sent to without being on the customer's file."""
        try:
            number = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            return False
        return (
            phonenumbers.region_code_for_number(number) == self.region
            and phonenumbers.is_valid_number(number)
            and phonenumbers.number_type(number) in _MOBILE_TYPES
        )

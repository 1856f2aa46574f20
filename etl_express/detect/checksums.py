"""Check-digit rules of the identifiers we detect. Inputs are strings of ASCII digits."""

from __future__ import annotations

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_A = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_B = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False))


def inn_valid(digits: str) -> bool:
    """INN: 10 digits (one check digit) or 12 digits (two check digits)."""
    if len(digits) == 10:
        return _weighted(digits, _INN10) % 11 % 10 == int(digits[9])
    if len(digits) == 12:
        first = _weighted(digits, _INN12_A) % 11 % 10
        second = _weighted(digits, _INN12_B) % 11 % 10
        return first == int(digits[10]) and second == int(digits[11])
    return False


def snils_valid(digits: str) -> bool:
    """SNILS: 9 digits and a 2-digit check number (weights 9..1, modulo 101)."""
    if len(digits) != 11:
        return False
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits[:9]))
    check = total % 101
    if check == 100:
        check = 0
    return check == int(digits[9:])


def ogrn_valid(digits: str) -> bool:
    """OGRN: 13 digits, last = (first 12 mod 11) mod 10."""
    return len(digits) == 13 and int(digits[:12]) % 11 % 10 == int(digits[12])


def ogrnip_valid(digits: str) -> bool:
    """OGRNIP: 15 digits, last = (first 14 mod 13) mod 10."""
    return len(digits) == 15 and int(digits[:14]) % 13 % 10 == int(digits[14])


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check used by payment card numbers."""
    if not digits.isdigit() or len(digits) < 12:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(compact: str) -> bool:
    """IBAN mod-97: move the first four characters to the end, letters to 10..35."""
    if len(compact) < 15 or len(compact) > 34 or not compact[:2].isalpha():
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        number = "".join(str(int(ch, 36)) for ch in rearranged)
    except ValueError:
        return False
    return int(number) % 97 == 1


_ACCOUNT_WEIGHTS = ((7, 1, 3) * 8)[:23]


def bank_account_valid(account: str, bik: str) -> bool:
    """Russian settlement account (20 digits) control key against the bank's BIK."""
    if len(account) != 20 or len(bik) != 9:
        return False
    key = bik[-3:] + account
    return sum(int(d) * w for d, w in zip(key, _ACCOUNT_WEIGHTS, strict=True)) % 10 == 0

"""Invitation codes: format, check character, normalisation, keyed hash."""

import hashlib
import hmac
import itertools

import pytest

from sampling import SamplingError
from sampling.codes import (CODE_ALPHABET, check_character, check_code, format_code, generate_code,
                            generate_codes, hash_code, is_valid_code, normalize_code)

SECRET = b"0123456789abcdef0123456789abcdef"


def test_generated_code_shape():
    code = generate_code()
    assert len(code) == 12 and code[4] == "-" and code[9] == "-"
    assert set(code.replace("-", "")) <= set(CODE_ALPHABET)
    assert is_valid_code(code)


def test_alphabet_has_no_confusable_letters():
    assert not set("ILOU") & set(CODE_ALPHABET)
    assert len(CODE_ALPHABET) == 32


def test_codes_are_distinct():
    assert len(set(generate_codes(2000))) == 2000


def test_normalisation_of_typed_input():
    code = generate_code()
    typed = " " + code.lower().replace("-", " ") + " "
    assert check_code(typed) == code.replace("-", "")
    assert normalize_code("abOI-l") == "AB011"


def test_look_alike_letters_are_read_as_digits():
    payload = "0110ABCDE"
    code = payload + check_character(payload)
    assert is_valid_code(code.replace("0", "O").replace("1", "l"))


def test_every_single_character_typo_is_caught():
    code = check_code(generate_code())
    for position, replacement in itertools.product(range(len(code)), CODE_ALPHABET):
        if replacement != code[position]:
            assert not is_valid_code(code[:position] + replacement + code[position + 1:])


def test_adjacent_swaps_are_caught():
    code = "7KQ2M9XD4" + check_character("7KQ2M9XD4")
    swaps = [code[:i] + code[i + 1] + code[i] + code[i + 2:] for i in range(len(code) - 1)]
    assert not any(is_valid_code(swapped) for swapped in swaps)


def test_bad_codes_get_a_bilingual_message():
    with pytest.raises(SamplingError, match="typing mistake") as raised:
        code = check_code(generate_code())
        check_code(code[:-1] + ("0" if code[-1] != "0" else "1"))
    assert "gõ sai" in raised.value.problems[0].message_vi
    with pytest.raises(SamplingError, match="10 letters and digits"):
        check_code("ABC")


def test_hash_is_hmac_sha256_of_the_canonical_code():
    code = generate_code()
    expected = hmac.new(SECRET, code.replace("-", "").encode(), hashlib.sha256).hexdigest()
    assert hash_code(SECRET, code) == expected
    assert hash_code(SECRET, code.lower().replace("-", " ")) == expected
    assert hash_code(b"another key that is long enough", code) != expected


def test_hash_needs_a_real_key():
    with pytest.raises(SamplingError, match="secret key"):
        hash_code(b"short", generate_code())


def test_format_code_groups_in_fours():
    assert format_code("abcdefghjk") == "ABCD-EFGH-JK"

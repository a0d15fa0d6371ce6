"""Splitting what an analyst pastes into values (registry.domain.paste)."""

from registry.domain.paste import split_values


def test_one_value_a_line_commas_semicolons_and_tabs():
    text = "1.2.3.4\r\nevil.example, hxxp://x[.]example/a;+66812345678\tfoo@bar.example\n\n"
    assert split_values(text) == (["1.2.3.4", "evil.example", "hxxp://x[.]example/a", "+66812345678",
                                   "foo@bar.example"], 0)


def test_spaces_split_network_values_but_not_phone_numbers():
    assert split_values("203.0.113.7 evil.example  2001:db8::1")[0] == ["203.0.113.7", "evil.example", "2001:db8::1"]
    assert split_values("+66 81 234 5678\n081 234 5678")[0] == ["+66 81 234 5678", "081 234 5678"]
    assert split_values("+66 (81) 234-5678")[0] == ["+66 (81) 234-5678"]
    # A line mixing a URL and free text stays whole: the normaliser says what is wrong with it.
    assert split_values("hxxp://evil[.]example/login page")[0] == ["hxxp://evil[.]example/login page"]


def test_comments_blank_lines_and_repeats():
    values, repeats = split_values("# case 2026-114\n  \n1.2.3.4\n1.2.3.4\nevil.example, 1.2.3.4\n")
    assert values == ["1.2.3.4", "evil.example"] and repeats == 2
    assert split_values("") == ([], 0)

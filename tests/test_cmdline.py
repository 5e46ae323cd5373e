"""Tests for migrate.emit.cmdline: the docker.exe command-line encoder and the ASCII-only PowerShell string forms."""
from __future__ import annotations

import subprocess
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from migrate.errors import CommandLineError
from migrate.emit.cmdline import (
    encode_arg,
    encode_command_line,
    resolve_command_line,
)
from migrate.pwsh import powershell_literal, powershell_string_expr
from migrate.plan.steps import BackupPath, Word
from tests.pslit import (
    decode_powershell_single_quoted,
    evaluate_assignment,
    evaluate_expression,
    parse_powershell,
    syntax_problems,
    utf16,
)
from tests.winsplit import SPLITTERS, split_command_line_argvw, split_command_line_go, split_command_line_msvcrt

ALL_SPLITTERS = pytest.mark.parametrize("split", list(SPLITTERS.values()), ids=list(SPLITTERS))

# Characters that matter to the splitters, PowerShell or encodings, weighted so they show up often.
_HOSTILE = st.sampled_from(
    ["\\", "\\", "\\", '"', '"', " ", "\t", "\n", "\r", "\x0b", "\x0c", "\xa0", "\u3000", "\u2028", "'", "`", "$",
     "(", ")", "@", "#", "{", "}", ";", "&", "|", "%", "^", "a", "Z", "0", "=", ":", "/", "\u00e9", "\u4e2d",
     "\u2018", "\u2019", "\u201a", "\u201b", "\u201c", "\u201d", "\U0001F600"]
)
_ANY_CHAR = st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"])
ARG_TEXT = st.text(alphabet=st.one_of(_HOSTILE, _ANY_CHAR), max_size=24)
"""A hostile literal argument: quotes, backslash runs, blanks, unicode; never NUL (a command line cannot hold it)."""


def _joined(args: list[str]) -> str:
    """The command line our encoder builds for plain string arguments."""
    return " ".join(encode_arg(a) for a in args)


# --- encode_arg -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("arg", "text"),
    [
        # runbook-style §4.5 worked examples
        ("C:\\Program Files\\x\\", '"C:\\Program Files\\x\\\\"'),
        ("", '""'),
        ('a"b', '"a\\"b"'),
        ('a\\\\"b', '"a\\\\\\\\\\"b"'),
        ("{{json .}}", '"{{json .}}"'),
        ("C:\\x\\", "C:\\x\\"),
        # more fixed cases
        ("plain", "plain"),
        ("-foo=bar.baz", "-foo=bar.baz"),
        ('"', '"\\""'),
        ('\\"', '"\\\\\\""'),
        ("a\tb", '"a\tb"'),
        ("a\nb", '"a\nb"'),
        ("\\\\server\\share", "\\\\server\\share"),
        ("x \\\\", '"x \\\\\\\\"'),
        ('{{.Config.Labels "com.docker.compose.project"}}', '"{{.Config.Labels \\"com.docker.compose.project\\"}}"'),
    ],
)
def test_encode_arg_fixed_cases(arg: str, text: str) -> None:
    assert encode_arg(arg) == text


@pytest.mark.parametrize(
    ("arg", "argv"),
    [
        ("C:\\Program Files\\x\\", ["C:\\Program Files\\x\\"]),
        ("", [""]),
        ('a"b', ['a"b']),
        ('a\\\\"b', ['a\\\\"b']),
        ("{{json .}}", ["{{json .}}"]),
        ("C:\\x\\", ["C:\\x\\"]),
    ],
)
@ALL_SPLITTERS
def test_worked_examples_read_back_by_every_parser(arg: str, argv: list[str], split) -> None:
    assert split(encode_arg(arg)) == argv


def test_encode_arg_rejects_nul() -> None:
    with pytest.raises(CommandLineError, match="NUL"):
        encode_arg("a\x00b")


def _list2cmdline_must_agree(arg: str) -> bool:
    """list2cmdline quotes only on space, tab or empty; where that and our rule pick the same form they must match."""
    if not arg or " " in arg or "\t" in arg:
        return True
    return '"' not in arg and not any(ch.isspace() for ch in arg)


@given(ARG_TEXT)
@example("C:\\Program Files\\x\\")
@example("a b\\\\")
@example('a \\\\"b')
@example("")
def test_encode_arg_matches_list2cmdline_where_both_quote_alike(arg: str) -> None:
    if _list2cmdline_must_agree(arg):
        assert encode_arg(arg) == subprocess.list2cmdline([arg])


@pytest.mark.parametrize(
    ("arg", "ours", "theirs"),
    [
        # list2cmdline does not quote an argument whose only special character is '"'; we do (like .NET
        # PasteArguments), and its trailing backslashes then double before our closing quote.
        ('a"b', '"a\\"b"', 'a\\"b'),
        ('"', '"\\""', '\\"'),
        ('{"k":"v"}\\', '"{\\"k\\":\\"v\\"}\\\\"', '{\\"k\\":\\"v\\"}\\'),
        # list2cmdline quotes only on space and tab; we quote on any whitespace (harmless, keeps it visible).
        ("a\nb", '"a\nb"', "a\nb"),
        ("a\u3000b", '"a\u3000b"', "a\u3000b"),
    ],
)
def test_documented_differences_from_list2cmdline(arg: str, ours: str, theirs: str) -> None:
    assert encode_arg(arg) == ours
    assert subprocess.list2cmdline([arg]) == theirs
    for split in SPLITTERS.values():
        assert split(ours) == [arg]
        assert split(theirs) == [arg]


@given(st.lists(ARG_TEXT, max_size=6))
@example(["", "", ""])
@example(['a"b', "c d"])
@example(["\\", "\\\\", '\\"', "x\\ ", " \\"])
@example(['""', '" "', "\t"])
@ALL_SPLITTERS
def test_every_argv_round_trips(split, args: list[str]) -> None:
    assert split(_joined(args)) == args


@given(st.lists(ARG_TEXT, max_size=6))
@ALL_SPLITTERS
def test_list2cmdline_oracle_round_trips_too(split, args: list[str]) -> None:
    # The oracle itself must be sound under each reference splitter, or the agreement test above proves nothing.
    assert split(subprocess.list2cmdline(args)) == args


@given(st.lists(ARG_TEXT, max_size=6))
def test_encoder_output_has_no_quote_doubling_so_all_parsers_agree(args: list[str]) -> None:
    line = _joined(args)
    assert split_command_line_msvcrt(line) == split_command_line_go(line) == split_command_line_argvw(line)


# --- the reference splitters themselves -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("line", "argv"),
    [
        # learn.microsoft.com "Parsing C command-line arguments" table, rows every parser agrees on
        ('"a b c" d e', ["a b c", "d", "e"]),
        ('"ab\\"c" "\\\\" d', ['ab"c', "\\", "d"]),
        ('a\\\\\\b d"e f"g h', ["a\\\\\\b", "de fg", "h"]),
        ('a\\\\\\"b c d', ['a\\"b', "c", "d"]),
        ('a\\\\\\\\"b c" d e', ["a\\\\b c", "d", "e"]),
        ('""', [""]),
        ('a "" b', ["a", "", "b"]),
        ("  a\t\tb  ", ["a", "b"]),
        ("", []),
        ('"unterminated \\', ["unterminated \\"]),
    ],
)
@ALL_SPLITTERS
def test_splitters_on_documented_lines(line: str, argv: list[str], split) -> None:
    assert split(line) == argv


@pytest.mark.parametrize(
    ("line", "post_2008", "pre_2008"),
    [
        # MicrosoftDocs/cpp-docs#3291: the CRT table vs CommandLineToArgvW's real output
        ('a"b"" c d', ['ab" c d'], ['ab"', "c", "d"]),
        # golang/go#39311: Go reads `a "b`, the msvcr90-era CRT `a "b" c`
        ('"a ""b"" c"', ['a "b" c'], ['a "b', "c"]),
    ],
)
def test_splitters_differ_on_doubled_quotes_inside_quotes(line: str, post_2008: list[str], pre_2008: list[str]) -> None:
    assert split_command_line_msvcrt(line) == post_2008
    assert split_command_line_go(line) == pre_2008
    assert split_command_line_argvw(line) == pre_2008


@given(st.text(alphabet=st.sampled_from(['"', '"', "\\", " ", "\t", "a", "b"]), max_size=30))
def test_go_and_argvw_formulations_agree_on_any_line(line: str) -> None:
    # One looks a character ahead, the other counts quote runs modulo 3: two statements of the pre-2008 rule.
    assert split_command_line_go(line) == split_command_line_argvw(line)


# --- encode_command_line with backup paths ----------------------------------------------------------------------

def test_design_examples_encode_to_segments() -> None:
    save = encode_command_line(["save", "-o", BackupPath("images/images-01.tar"), "repo:tag", "sha256:ab"])
    assert save == ('save -o "', BackupPath("images/images-01.tar"), '" repo:tag sha256:ab')
    backup = encode_command_line(
        ["run", "--rm", "--network", "none", "-v", "my vol:/data:ro", "-v", Word((BackupPath("volumes"), ":/backup")),
         "alpine", "tar", "-c", "-f", "/backup/my vol.tar", "-C", "/data", "."]
    )
    assert backup == (
        'run --rm --network none -v "my vol:/data:ro" -v "', BackupPath("volumes"),
        ':/backup" alpine tar -c -f "/backup/my vol.tar" -C /data .',
    )
    env = encode_command_line(["create", "--env-file", BackupPath("secrets/env/db.env"), "--label", 'k=a "q"', ""])
    assert env == ('create --env-file "', BackupPath("secrets/env/db.env"), '" --label "k=a \\"q\\"" ""')


def test_root_marker_and_adjacent_literals_merge() -> None:
    segments = encode_command_line([Word(("a", "b\\", BackupPath(""), '"', "c\\")), BackupPath("")])
    assert segments == ('"ab\\', BackupPath(""), '\\"c\\\\" "', BackupPath(""), '"')
    assert resolve_command_line(segments, "C:\\B k") == '"ab\\C:\\B k\\"c\\\\" "C:\\B k"'
    for split in SPLITTERS.values():
        assert split(resolve_command_line(segments, "C:\\B k")) == ['ab\\C:\\B k"c\\', "C:\\B k"]


def test_word_without_backup_path_is_a_plain_argument() -> None:
    assert encode_command_line([Word(("a", "b")), Word(()), Word(("x y",))]) == ('ab "" "x y"',)


@pytest.mark.parametrize("rel", ["/images", "images/", 'a"b', "a\\b", "a\nb", "a\x00b"])
def test_bad_relative_backup_paths_are_refused(rel: str) -> None:
    with pytest.raises(CommandLineError, match="backup path"):
        encode_command_line(["load", "-i", BackupPath(rel)])


@pytest.mark.parametrize("root", ["", "C:\\", "C:\\x\\", 'C:\\a"b', "C:\\a\x00"])
def test_resolve_refuses_roots_that_would_break_quoting(root: str) -> None:
    with pytest.raises(CommandLineError, match="backup folder"):
        resolve_command_line(encode_command_line([BackupPath("x")]), root)


def test_trailing_backslash_root_really_would_break_the_line() -> None:
    # Why the runbook refuses such roots: joined by hand, the closing quote gets escaped and arguments merge.
    line = '"' + "C:\\x\\" + '" next'
    assert split_command_line_go(line) == ['C:\\x" next']


def _is_control(ch: str) -> bool:
    """A control character as the runbook's [char]::IsControl sees it."""
    return unicodedata.category(ch) == "Cc"


def _is_valid_root(root: str) -> bool:
    """The runbook's run-time check of -BackupPath: absolute, no '"', no control characters, no trailing '\\'."""
    absolute = (len(root) >= 3 and root[0].isascii() and root[0].isalpha() and root[1:3] == ":\\") or (
        root.startswith("\\\\") and len(root) > 2
    )
    return absolute and '"' not in root and not any(_is_control(c) for c in root) and not root.endswith("\\")


_ROOT_TAIL_CHARS = st.one_of(
    st.sampled_from(list(" \\\\.()&,'%^!;=[]{}@#$`~+-_\u00e9\u4e2d\u2019\u00a0\u3000") + ["\U0001F600"]),
    st.characters(blacklist_characters='"', blacklist_categories=["Cc", "Cs"]),
)
VALID_ROOTS = st.builds(
    lambda prefix, tail: prefix + tail,
    st.one_of(st.sampled_from(["C:\\", "d:\\", "Z:\\"]), st.just("\\\\"), st.just("\\\\?\\C:\\")),
    st.text(alphabet=_ROOT_TAIL_CHARS, min_size=1, max_size=30),
).filter(_is_valid_root)

_REL_PART = st.text(
    alphabet=st.characters(blacklist_characters='"\\/', blacklist_categories=["Cc", "Cs"]), min_size=1, max_size=8
)
RELS = st.one_of(st.just(""), st.lists(_REL_PART, min_size=1, max_size=3).map("/".join))
BACKUP_PATHS = RELS.map(BackupPath)
ARGS = st.one_of(
    ARG_TEXT,
    BACKUP_PATHS,
    st.lists(st.one_of(ARG_TEXT, BACKUP_PATHS), max_size=5).map(lambda parts: Word(tuple(parts))),
)


def _expected(arg: str | BackupPath | Word, root: str) -> str:
    """The argument docker.exe must receive, resolved the way the brief states the runbook does it."""
    def one(part: str | BackupPath) -> str:
        if isinstance(part, str):
            return part
        return root if not part.rel else root + "\\" + part.rel.replace("/", "\\")

    if isinstance(arg, Word):
        return "".join(one(p) for p in arg.parts)
    return one(arg)


@settings(max_examples=400)
@given(st.lists(ARGS, max_size=6), VALID_ROOTS)
@example([Word(("x\\", BackupPath(""), '\\"', BackupPath("a b/c"), "\\"))], "\\\\nas\\share\\Back up (1) & co")
@example([BackupPath(""), Word((BackupPath(""), ":/backup:ro"))], "C:\\Users\\J O'Neil\\%TEMP%^ ,;=\u00e9 .")
@example([Word(("", BackupPath("volumes"), ""))], "C:\\ ")
@example([Word(('"', BackupPath(""), '"'))], "C:\\a b")
def test_every_valid_root_splits_back_to_the_resolved_argv(args, root: str) -> None:
    line = resolve_command_line(encode_command_line(args), root)
    expected = [_expected(a, root) for a in args]
    for split in SPLITTERS.values():
        assert split(line) == expected


@given(
    st.lists(ARGS, max_size=5),
    st.text(alphabet=st.one_of(_HOSTILE.filter(lambda c: c != '"'), _ANY_CHAR.filter(lambda c: c != '"')),
            min_size=1).filter(lambda r: not r.endswith("\\")),
)
def test_quoting_needs_only_a_nonempty_root_without_quote_or_trailing_backslash(args, root: str) -> None:
    # Broader than the runbook's check (relative roots, control characters): the quoting holds anyway.
    line = resolve_command_line(encode_command_line(args), root)
    assert split_command_line_go(line) == [_expected(a, root) for a in args]


@given(st.lists(ARGS, max_size=6))
def test_segments_are_merged(args) -> None:
    segments = encode_command_line(args)
    for left, right in zip(segments, segments[1:], strict=False):
        assert not (isinstance(left, str) and isinstance(right, str))
    assert all(s != "" for s in segments)


# --- PowerShell literals and ASCII-only expressions -------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("", "''"),
        ("it's", "'it''s'"),
        ("a\u2018b\u2019c\u201ad\u201be", "'a\u2018\u2018b\u2019\u2019c\u201a\u201ad\u201b\u201be'"),
        ("$(Get-Date) `n \"x\"", "'$(Get-Date) `n \"x\"'"),
    ],
)
def test_powershell_literal_fixed_cases(text: str, literal: str) -> None:
    assert powershell_literal(text) == literal


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("'it''s'", "it's"),
        ("\u2018smart\u2019", "smart"),
        ("'a\u2019\u2019b'", "a\u2019b"),
        ("'a'\u2019b'", "a\u2019b"),
        ("'$x `n'", "$x `n"),
        ("''", ""),
    ],
)
def test_decoder_follows_the_tokenizer(token: str, value: str) -> None:
    assert decode_powershell_single_quoted(token) == value


@pytest.mark.parametrize("token", ["'abc", "'a'b'", "abc", "'"])
def test_decoder_rejects_broken_tokens(token: str) -> None:
    with pytest.raises(ValueError):
        decode_powershell_single_quoted(token)


@given(st.text(alphabet=st.one_of(_HOSTILE, _ANY_CHAR, st.just("\x00"))))
def test_powershell_literal_decodes_back(text: str) -> None:
    assert decode_powershell_single_quoted(powershell_literal(text)) == text


@pytest.mark.parametrize(
    ("text", "expr"),
    [
        ("abc", "'abc'"),
        ("caf\u00e9", "('caf' + [char]0x00e9)"),
        ("\u00e9t\u00e9", "('' + [char]0x00e9 + 't' + [char]0x00e9)"),
        ("\U0001F600", "('' + [char]0xd83d + [char]0xde00)"),
        ("it\u2019s", "('it' + [char]0x2019 + 's')"),
        ("a\tb\r\n", "('a' + [char]0x0009 + 'b' + [char]0x000d + [char]0x000a)"),
        ("x\x00", "('x' + [char]0x0000)"),
        ("'\x7f", "('''' + [char]0x007f)"),
    ],
)
def test_powershell_string_expr_fixed_cases(text: str, expr: str) -> None:
    assert powershell_string_expr(text) == expr


HOSTILE_PS_TEXT = st.lists(
    st.one_of(
        _HOSTILE, _ANY_CHAR,
        st.sampled_from(["\x00", "\ud83d", "\ude00", "\ud800", "$(", "@'", "'@", '@"', "<#", "#>", "``", "\r\n"]),
    ),
    max_size=30,
).map("".join)
"""Hostile text for PowerShell: every quote kind, sub-expressions, here-string openers, NUL, lone surrogates."""


@settings(max_examples=300)
@given(HOSTILE_PS_TEXT)
@example("$(Remove-Item C:\\ -Recurse)")
@example("@'\nx\n'@")
@example("\u2018\u2019\u201a\u201b'")
@example("\U0001F600\ud800")
@example("")
def test_powershell_string_expr_is_ascii_parses_cleanly_and_evaluates_back(text: str) -> None:
    expr = powershell_string_expr(text)
    assert all(" " <= ch <= "~" for ch in expr), expr
    assert utf16(evaluate_expression(expr)) == utf16(text)


@given(st.lists(HOSTILE_PS_TEXT, min_size=1, max_size=4))
def test_expressions_work_as_array_elements_and_command_arguments(texts: list[str]) -> None:
    exprs = [powershell_string_expr(t) for t in texts]
    array = f"$a = @({', '.join(exprs)})\n"
    assert syntax_problems(parse_powershell(array)) == []
    command = f"Write-Output -InputObject {exprs[0]}\n"
    assert syntax_problems(parse_powershell(command)) == []
    joined = "$j = " + " + ".join(["''"] + exprs) + "\n"
    assert utf16(evaluate_assignment(joined)) == utf16("".join(texts))


@given(st.lists(ARGS, max_size=5))
def test_command_line_segments_survive_the_powershell_form(args) -> None:
    for segment in encode_command_line(args):
        if isinstance(segment, str):
            assert utf16(evaluate_expression(powershell_string_expr(segment))) == utf16(segment)


@pytest.mark.parametrize("expr", ["([char]0x00e9 + 'x')", "([char]0xd83d + [char]0xde00)", "[char]0x0041"])
def test_evaluator_refuses_forms_powershell_would_not_concatenate(expr: str) -> None:
    # Pins the evaluator to PowerShell's rule, so the leading '' of generated expressions is really checked.
    with pytest.raises(ValueError):
        evaluate_expression(expr)

"""Tests for reference_impl.gotemplate (Go text/template as docker --format uses it).

Expected values marked "go" were produced by Go's own text/template (go1.19, data
decoded from JSON into interface{}, docker's template functions); those marked
"docker" were printed by the real docker CLI (28.2.2) on an image imported for
the purpose.  The differential test at the end re-checks a corpus against Go
when a Go toolchain is on PATH, and the live docker test runs only when
STRATA_GOTMPL_LIVE_DOCKER=1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import uuid

import pytest

from reference_impl.gotemplate import (
    NO_VALUE,
    Row,
    Template,
    TemplateError,
    go_format,
    go_json,
    go_sprintf,
    is_table,
    parse,
    pre_format,
    render,
    strip_table,
    tabulate,
    tabwrite,
)

# Shaped like `docker image inspect` output.
IMAGE = {
    "Id": "sha256:e8f040441e20b51b69be366947b6db6ee01d12768dd171ccc17dc744a87d03d7",
    "RepoTags": ["strata-gotmpl:latest"],
    "RepoDigests": [],
    "Parent": "",
    "Comment": "Imported from -",
    "Config": {
        "User": "",
        "Tty": False,
        "Env": ["FOO=bar", "PATH=/usr/bin"],
        "Cmd": None,
        "Entrypoint": None,
        "Labels": {"z": "<&>", "a.b": "c"},
    },
    "Architecture": "amd64",
    "Os": "linux",
    "Size": 1234000,
    "RootFS": {"Type": "layers", "Layers": ["sha256:aa", "sha256:bb"]},
    "State": {"Running": True, "Pid": 42, "ExitCode": 0},
}

# Generic JSON-like data used by the Go-verified cases (numbers are floats,
# as encoding/json decodes them into interface{}).
DATA = {
    "a": 1.0,
    "n": None,
    "f": 1.5,
    "m": {"b": "x", "a": None, "c": [1.0, None, "s"]},
    "l": [1.0, 2.0, 3.0],
    "s": "héllo",
    "e": [],
    "em": {},
    "t": True,
    "big": 1e20,
    "z": 0.0,
    "neg": -0.0000123,
}


def err(template, data=DATA, **kw):
    with pytest.raises(TemplateError) as ei:
        render(template, data, **kw)
    return str(ei.value)


# ---------------------------------------------------------------- basics


@pytest.mark.parametrize(
    "tpl,want",
    [
        ("{{.Os}}", "linux"),
        ("{{ .Os }}", "linux"),
        ("{{.Config.User}}", ""),
        ("{{.State.Running}}", "true"),
        ("{{.Config.Tty}}", "false"),
        ("{{.State.Pid}}", "42"),
        ("{{.Size}}", "1234000"),  # docker: typed int64 prints as an integer
        ("{{.RootFS.Layers}}", "[sha256:aa sha256:bb]"),
        ("{{.RepoDigests}}", "[]"),
        ("{{.Config.Labels}}", "map[a.b:c z:<&>]"),  # keys sorted
        ("{{.RootFS}}", "map[Layers:[sha256:aa sha256:bb] Type:layers]"),
        ("{{index .Config.Labels \"a.b\"}}", "c"),
        ("{{len .RootFS.Layers}}", "2"),
        ("{{range .RootFS.Layers}}{{.}} {{end}}", "sha256:aa sha256:bb "),
        ("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}", "a.b=c z=<&> "),
        ("{{if .State.Running}}yes{{else}}no{{end}}", "yes"),
        ("{{if .Config.Tty}}yes{{else}}no{{end}}", "no"),
        ("{{with .State}}{{.Pid}}{{end}}", "42"),
        ("{{with .Config.Cmd}}x{{else}}none{{end}}", "none"),
        ("{{json .RootFS}}", '{"Type":"layers","Layers":["sha256:aa","sha256:bb"]}'),
        ("{{.RootFS | json}}", '{"Type":"layers","Layers":["sha256:aa","sha256:bb"]}'),
        ("{{json .Config.Labels}}", '{"z":"<&>","a.b":"c"}'),  # insertion order, no HTML escape
        ("{{.Os | upper}}", "LINUX"),
        ("{{.Os | upper | printf \"%s!\"}}", "LINUX!"),
        ("{{truncate .Id 12}}", "sha256:e8f04"),
        ("{{join .Config.Env \",\"}}", "FOO=bar,PATH=/usr/bin"),
        ("{{.Missing}}", "<no value>"),
        ("{{.Config.Labels.nope}}", "<no value>"),
        ("{{.Config.Cmd}}", "<no value>"),  # explicit null as an action result
        ("{{$x := .Os}}{{$x}}-{{$x}}", "linux-linux"),
        ("{{$.Os}}", "linux"),
        ("{{/* a comment */}}x", "x"),
        ("a {{- /* c */ -}} b", "ab"),
        ("{{.Os}}\\t{{.Architecture}}", "linux\\tamd64"),  # inspect does not unescape \t
    ],
)
def test_docker_style_templates(tpl, want):
    assert render(tpl, IMAGE) == want


def test_parse_once_execute_many():
    t = parse("{{.Name}}:{{.N}}")
    assert isinstance(t, Template)
    rows = [{"Name": "a", "N": 1}, {"Name": "b", "N": 2}, {"Name": "c"}]
    assert [t.execute(r) for r in rows] == ["a:1", "b:2", "c:<no value>"]


def test_text_only_and_empty():
    assert render("plain text", {}) == "plain text"
    assert render("", {}) == ""
    assert render("{{.}}", None) == "<no value>"
    assert render("{{.}}", "str") == "str"
    assert render("{{.}}", [1, "a", None]) == "[1 a <nil>]"


# ---------------------------------------------------------------- formatting of values


@pytest.mark.parametrize(
    "value,want",
    [
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-7, "-7"),
        (1234567, "1234567"),
        (1.5, "1.5"),
        (1.0, "1"),
        (0.0, "0"),
        (-0.0, "-0"),
        (100000.0, "100000"),
        (123456.0, "123456"),
        (1000000.0, "1e+06"),
        (1234567.0, "1.234567e+06"),
        (1e20, "1e+20"),
        (1e21, "1e+21"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-0.0000123, "-1.23e-05"),
        (0.1, "0.1"),
        (1.5e300, "1.5e+300"),
        (5e-324, "5e-324"),
        (float("inf"), "+Inf"),
        (float("-inf"), "-Inf"),
        (float("nan"), "NaN"),
        ("s", "s"),
        (None, "<nil>"),
        ([], "[]"),
        ({}, "map[]"),
        ([1, [2, 3], {"b": 1, "a": None}], "[1 [2 3] map[a:<nil> b:1]]"),
        ({"b": [], "a": {"y": 2, "x": 1.5}}, "map[a:map[x:1.5 y:2] b:[]]"),
    ],
)
def test_go_format(value, want):
    assert go_format(value) == want


def test_go_verified_value_printing():  # go
    assert render("{{.}}", DATA) == (
        "map[a:1 big:1e+20 e:[] em:map[] f:1.5 l:[1 2 3] m:map[a:<nil> b:x c:[1 <nil> s]] "
        "n:<nil> neg:-1.23e-05 s:héllo t:true z:0]"
    )
    assert render("{{.m}}", DATA) == "map[a:<nil> b:x c:[1 <nil> s]]"
    assert render(
        "{{.big}} {{.z}} {{.neg}} {{1e6}} {{3.0}} {{017}} {{0x1F}} {{'a'}} {{-5}} {{1_000}}", DATA
    ) == ("1e+20 0 -1.23e-05 1e+06 3 15 31 97 -5 1000")
    assert render("{{.n}}|{{.missing}}|{{index .m \"a\"}}|{{index .m \"zz\"}}", DATA) == (
        "<no value>|<no value>|<no value>|<no value>"
    )
    assert render("{{print .n}} {{printf \"%v\" .missing}}", DATA) == "<nil> <nil>"


def test_map_keys_sorted_bytewise():
    assert go_format({"b": 1, "B": 2, "a": 3, "é": 4, "_": 5}) == "map[B:2 _:5 a:3 b:1 é:4]"


# ---------------------------------------------------------------- syntax


@pytest.mark.parametrize(
    "tpl,want",
    [
        ("{{- \" x \" -}} y", " x y"),
        ("a  {{- \"b\" -}}  c", "abc"),
        ("a\n\t {{- .a}}", "a1"),
        ("{{.a -}}\n\t x", "1x"),
        ("{{-3}}", "-3"),  # a number, not a trim marker
        ("{{3 -}}  x", "3x"),
        ("{{/* c */}}x", "x"),
        ("{{- /* x */ -}}", ""),
        ("{{/* x */ -}}   y", "y"),
        ("{{- /* x */}}   y", "   y"),
        ("{{\"\\t\\n\\\"\\\\\"}}|{{`raw\\n`}}|{{'\\n'}}|{{\"\\u00e9\\x41\"}}", '\t\n"\\|raw\\n|10|éA'),
        ("{{\"\\xc3\\xa9\"}}", "é"),
        ("{{ `a\nb` }}", "a\nb"),
        ("{{.a|printf \"%v\"}}", "1"),
        ("{{ .a | printf \"%v-%v\" 1 }}", "1-1"),
        ("{{(.a)}}", "1"),
        ("{{(.m).b}}", "x"),
        ("{{$x := .n}}{{$x.y}}", "<no value>"),
        ("{{(.n).y}}", "<no value>"),
        ("{{$.a}}", "1"),
        ("{{range .l}}{{$.s}}{{end}}", "héllohéllohéllo"),
        ("{{with .m}}{{.b}}{{$.a}}{{end}}", "x1"),
        ("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2"),
        ("{{$x := 1}}{{if true}}{{$x := 2}}{{end}}{{$x}}", "1"),
        ("{{$x := 5}}{{$x}}{{$x = 6}}{{$x}}", "56"),
        ("{{$x := 1 | printf \"%d\"}}{{$x}}", "1"),
        ("{{$v := \"\"}}{{range .l}}{{$v = printf \"%s%v\" $v .}}{{end}}{{$v}}", "123"),
        ("{{range $i, $e := .l}}{{$i}}{{$e}},{{end}}", "01,12,23,"),
        ("{{range $e := .l}}{{$e}},{{end}}", "1,2,3,"),
        ("{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}", "a=<no value>;b=x;c=[1 <nil> s];"),
        ("{{range .m.c}}[{{.}}]{{end}}", "[1][<no value>][s]"),
        ("{{range .m.c}}[{{printf \"%v\" .}}]{{end}}", "[1][<nil>][s]"),
        ("{{range .missing}}x{{else}}empty{{end}}", "empty"),
        ("{{range .n}}x{{else}}empty{{end}}", "empty"),
        ("{{range .e}}x{{else}}empty{{end}}", "empty"),
        ("{{range .em}}x{{else}}empty{{end}}", "empty"),
        ("{{range .l}}{{if eq . 2.0}}{{break}}{{end}}{{.}}{{end}}", "1"),
        ("{{range .l}}{{if eq . 2.0}}{{continue}}{{end}}{{.}}{{end}}", "13"),
        ("{{range $x := .l}}{{$x = 9}}{{$x}}{{end}}", "999"),
        ("{{range 3}}{{.}}{{end}}", "012"),  # go >= 1.22
        ("{{if .n}}y{{else if .a}}a{{end}}", "a"),
        ("{{if .n}}y{{else if .z}}a{{else}}b{{end}}", "b"),
        ("{{if .m.a}}t{{else}}f{{end}}", "f"),
        ("{{with $x := .m.b}}{{$x}}{{.}}{{end}}", "xx"),
        ("{{with .m}}{{with .a}}x{{else}}none{{end}}{{end}}", "none"),
        ("{{with .missing}}x{{else with .s}}{{.}}{{end}}", "héllo"),  # go >= 1.23
        ("{{define \"x\"}}[{{.}}]{{end}}{{template \"x\" .a}}{{template \"x\"}}", "[1][<no value>]"),
        ("{{block \"b\" .s}}<{{.}}>{{end}}", "<héllo>"),
        ("{{define \"t\"}}{{$}}{{end}}{{template \"t\" .m.b}}", "x"),
        ("{{if and .t (not .n)}}ok{{end}}", "ok"),
        ("{{if or (eq .s \"x\") (gt (len .l) 2)}}big{{end}}", "big"),
        ("{{range $i, $e := .l}}{{if $i}},{{end}}{{$e}}{{end}}", "1,2,3"),
        ("{{.m.c | len | printf \"%03d\"}}", "003"),
        ("{{\"abc\" | len}}", "3"),
        ("line1\n{{.m.b}}\nline3", "line1\nx\nline3"),
        ("{{.a\n}}", "1"),  # newlines are allowed inside actions
    ],
)
def test_syntax_go_verified(tpl, want):  # go (except the two marked newer-Go features)
    assert render(tpl, DATA) == want


# ---------------------------------------------------------------- functions


@pytest.mark.parametrize(
    "tpl,want",
    [
        ("{{split \"a,b,c\" \",\"}} {{split \"abc\" \"\"}} {{split \"\" \",\"}}", "[a b c] [a b c] []"),
        ("{{join (split \"a,b,c\" \",\") \"-\"}}", "a-b-c"),
        ("{{len (split \"a b c\" \" \")}}", "3"),
        ("{{title \"hello wOrld-foo_bar x.y\"}}", "Hello WOrld-Foo_bar X.Y"),
        ("{{lower \"ÀB\"}} {{upper \"àb\"}}", "àb ÀB"),
        ("{{upper \"straße\"}} {{lower \"İI\"}}", "STRAßE ii"),
        ("{{truncate \"abcdef\" 3}}|{{truncate \"ab\" 3}}|{{truncate \"abc\" 3}}", "abc|ab|abc"),
        ("{{pad \"x\" 2 3}}|{{pad \"\" 2 3}}|", "  x   ||"),
        ("{{json \"<&>\"}} {{json 1.5}} {{json \"a\\u2028b\\x01\"}}", '"<&>" 1.5 "a\\u2028b\\u0001"'),
        ("{{json .missing}} {{json .n}} {{json .e}} {{json .em}} {{json .t}}", "null null [] {} true"),
        ("{{print 1 2 \"a\" \"b\" 3 .n}}", "1 2ab3 <nil>"),
        ("{{print \"a\" \"b\"}}{{print 1 2}}{{print .t .t}}", "ab1 2true true"),
        ("{{println 1 \"a\"}}", "1 a\n"),
        ("{{println}}", "\n"),
        ("{{and .a .n}}|{{or .n .missing}}|{{or .missing 0 \"d\"}}", "<no value>|<no value>|d"),
        ("{{or 0 \"\" .e .em}}|{{and 1 \"x\" .l}}|{{and 0 .missing.x}}|{{or 1 .nope.x}}", "map[]|[1 2 3]|0|1"),
        ("{{not .e}} {{not .l}} {{not 0}} {{not .missing}} {{not .n}}", "true false true true true"),
        ("{{.a | not}} {{.n | not}}", "false true"),
        ("{{le 1 1}} {{gt \"b\" \"a\"}} {{ge 1.5 2.5}} {{ne 1 2}} {{eq 1 2 3 1}}", "true true false true true"),
        ("{{eq .f 1.5}} {{eq .s \"héllo\"}} {{eq .t true}}", "true true true"),
        ("{{eq .missing nil}} {{eq .n nil}} {{eq .missing \"x\"}} {{eq .n .missing}}", "true true false true"),
        ("{{lt \"a\" \"b\"}} {{lt 1.5 2.5}} {{le .a 1.0}}", "true true true"),
        ("{{index .m \"c\" 0}} {{index . \"m\" \"c\" 2}} {{index .s 1}}", "1 s 195"),
        ("{{index .m.c 1}}|{{index .m.c 1 | printf \"%v\"}}", "<no value>|<nil>"),
        ("{{slice .s 1 3}} {{slice .l 1}} {{slice .l 0 1 2}} {{slice .l}}", "é [2 3] [1] [1 2 3]"),
        (
            "{{html \"<a href=\\\"x\\\">&'</a>\"}} {{urlquery \"a b&c=d/é~\"}}",
            "&lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt; a+b%26c%3Dd%2F%C3%A9~",
        ),
        ("{{js \"a'b\\\"c<d>=&\\\\ é\\n\\t\"}}", "a\\'b\\\"c\\u003Cd\\u003E\\u003D\\u0026\\\\ é\\u000A\\u0009"),
        ("{{html .l}} {{urlquery 1 2}} {{js nil}}", "[1 2 3] 1+2 \\u003Cno value\\u003E"),
    ],
)
def test_functions_go_verified(tpl, want):  # go
    assert render(tpl, DATA) == want


@pytest.mark.parametrize(
    "fmt,args,want",
    [
        ("%s|%d|%v|%q", [None, "héllo", None, 1.0], "%!s(<nil>)|%!d(string=héllo)|<nil>|%!q(float64=1)"),
        ("%s %s", [], "%!s(MISSING) %!s(MISSING)"),
        ("%s", [1, 2], "%!s(int=1)%!(EXTRA int=2)"),
        ("%d%%", [50], "50%"),
        ("%5.2f|%-5s|%5s|%x|%X|%o|%b|%c|%U|%e|%g|%t", [3.14159, "ab", "cd", 255, "hi", 8, 5, 65, 65, 1234.5, 0.000012, True],
         " 3.14|ab   |   cd|ff|6869|10|101|A|U+0041|1.234500e+03|1.2e-05|true"),
        ("%T|%T|%T|%T|%T|%T|%T", [{}, [], None, 1, 1.5, "s", True],
         "map[string]interface {}|[]interface {}|<nil>|int|float64|string|bool"),
        ("%6.2f|%-8.3e|%+d|%05d|%-5d|%x|%#x|%#o|% d", [3.14159, 1234.5678, 5, 42, 7, "héllo", 255, 8, 5],
         "  3.14|1.235e+03|+5|00042|7    |68c3a96c6c6f|0xff|010| 5"),
        ("%g %g %g %g %G", [1e21, 1e20, 0.0001, 123456789.0, 1e-7], "1e+21 1e+20 0.0001 1.23456789e+08 1E-07"),
        ("%.2g %.3g %.10g %g", [1234.0, 0.00012345, 1.0, 100000.0], "1.2e+03 0.000123 1 100000"),
        ("%8.3s|%-8q|%c|%q|%U", ["abcdef", "x", 0x1F600, 0x1F600, 0x1F600], "     abc|\"x\"     |😀|'😀'|U+1F600"),
        ("%v %d", [1e6, 1000000], "1e+06 1000000"),
        ("%t %s %d %f", [1, 1.5, 1.5, 1], "%!t(int=1) %!s(float64=1.5) %!d(float64=1.5) %!f(int=1)"),
        ("%*d|%-*d|%.*f", [5, 1, 4, 2, 2, 3.14159], "    1|2   |3.14"),
        ("%+v %+d %+.1f", [5, 5, 1.0], "5 +5 +1.0"),
        ("%[2]d %[1]d|%[3]d", [1, 2], "2 1|%!d(BADINDEX)"),
        ("%x %X|%o %O %b", [-255, -255, 64, 64, -5], "-ff -FF|100 0o100 -101"),
        ("%c%c %q %q %q", [104, 105, 39, 34, 10], "hi '\\'' '\"' '\\n'"),
        ("%08.3f|%-8.2f|%+08d|% 05d", [3.14159, 2.5, 42, 42], "0003.142|2.50    |+0000042| 0042"),
        ("%6.2e|%G|%g", [123456.0, 1e-10, 1e100], "1.23e+05|1E-10|1e+100"),
        ("%.0e|%#.0e|%#g|%#.3g", [5.0, 5.0, 1.0, 2.0], "5e+00|5.e+00|1.00000|2.00"),
        ("%x %x", [3.5, "hi"], "0x1.cp+01 6869"),
        ("%q|%+q|%#q|%#q", ["tab\there\x00 é \u2028", "é", "a`b", "ab"],
         '"tab\\there\\x00 é \\u2028"|"\\u00e9"|"a`b"|`ab`'),
        ("%x|% x|%#x|% #x|%X", ["hi", "hi", "ab", "ab", "é"], "6869|68 69|0x6162|0x61 0x62|C3A9"),
        ("%.2s %.5q", ["héllo", "héllo"], "hé \"héllo\""),
        ("%.3d|%.0d|%8.3d", [5, 0, -7], "005||    -007"),
        ("%.0f %.0f %.0f", [0.5, 1.5, 2.5], "0 2 2"),
        ("%e %E", [0.0, 123.0], "0.000000e+00 1.230000E+02"),
        ("%v|%s|%d", [[], {}, []], "[]|map[]|[]"),
        ("%d", [{"b": "x", "a": None, "c": [1.0, None, "s"]}],
         "map[%!d(string=a):<nil> %!d(string=b):%!d(string=x) %!d(string=c):[%!d(float64=1) <nil> %!d(string=s)]]"),
        ("%10v|%-10v|", [[1, 2], [1, None, "s"]], "[         1          2]|[1          <nil> s         ]|"),
        ("%z", [1], "%!z(int=1)"),
        ("%", [], "%!(NOVERB)"),
        ("%#v %#v %#v", ["x", [1, 2, 3], None], '"x" []interface {}{1, 2, 3} <nil>'),
    ],
)
def test_sprintf_go_verified(fmt, args, want):  # go
    assert go_sprintf(fmt, args) == want


def test_printf_from_template():
    assert render('{{printf "%-6s|%4d|%.1f" .Os .State.Pid 2.25}}', IMAGE) == "linux |  42|2.2"
    assert render("{{.Name | printf \"%.3s\"}}", {"Name": "/web"}) == "/we"


# ---------------------------------------------------------------- json


def test_json_matches_go_encoding():
    assert go_json({"b": 1, "a": [1.5, None, True, "x"]}) == '{"b":1,"a":[1.5,null,true,"x"]}'
    # Go's float encoding: 'f' form, 'e' form below 1e-6 and from 1e21 on
    assert go_json([1e-7, 1e21, 1e20, 0.000001, 123456789.0, -0.0, 1e6]) == (
        "[1e-7,1e+21,100000000000000000000,0.000001,123456789,-0,1000000]"
    )
    # no HTML escaping (docker 28 json: SetEscapeHTML(false)); control chars escaped
    assert go_json("<a&b>\"\\\n\r\t\b\f\x01\u2028\u2029é") == (
        '"<a&b>\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u2028\\u2029é"'
    )
    assert go_json(float("nan")) == ""  # json error: docker prints nothing
    assert render("{{json .}}", {"b": 1, "a": 2}) == '{"b":1,"a":2}'  # insertion order kept


def test_json_of_list_command_row_escapes_html_and_sorts():  # docker
    row = Row(Tag="v1", Repository="strata", Digest="<none>", ID="ff42f0e7316d")
    assert render("{{json .}}", row) == (
        '{"Digest":"\\u003cnone\\u003e","ID":"ff42f0e7316d","Repository":"strata","Tag":"v1"}'
    )
    assert render("{{json .Digest}}", row) == '"<none>"'
    assert render("{{.Digest}}", row) == "<none>"


# ---------------------------------------------------------------- execution errors


@pytest.mark.parametrize(
    "tpl,msg",
    [
        ("{{.n.x}}", 'template: :1:4: executing "" at <.n.x>: nil pointer evaluating interface {}.x'),
        ("{{len .missing}}", 'template: :1:2: executing "" at <len .missing>: error calling len: '
         "reflect: call of reflect.Value.Type on zero Value"),
        ("{{len .n}}", 'template: :1:2: executing "" at <len .n>: error calling len: len of nil pointer'),
        ("{{len .a}}", 'template: :1:2: executing "" at <len .a>: error calling len: len of type float64'),
        ("{{index .m \"a\" \"q\"}}", 'template: :1:2: executing "" at <index .m "a" "q">: '
         "error calling index: index of nil pointer"),
        ("{{index .l 5}}", 'template: :1:2: executing "" at <index .l 5>: error calling index: index out of range: 5'),
        ("{{index .l -1}}", 'template: :1:2: executing "" at <index .l -1>: error calling index: index out of range: -1'),
        ("{{index .m 1}}", 'template: :1:2: executing "" at <index .m 1>: error calling index: '
         "value has type int; should be string"),
        ("{{index .m nil}}", 'template: :1:2: executing "" at <index .m nil>: error calling index: '
         "value is nil; should be of type string"),
        ("{{eq .a 1}}", 'template: :1:2: executing "" at <eq .a 1>: error calling eq: incompatible types for comparison'),
        ("{{lt 1 2.0}}", 'template: :1:2: executing "" at <lt 1 2.0>: error calling lt: incompatible types for comparison'),
        ("{{lt true false}}", 'template: :1:2: executing "" at <lt true false>: error calling lt: invalid type for comparison'),
        ("{{upper .a}}", 'template: :1:8: executing "" at <.a>: wrong type for value; expected string; got float64'),
        ("{{upper .missing}}", 'template: :1:8: executing "" at <.missing>: invalid value; expected string'),
        ("{{upper .n}}", 'template: :1:8: executing "" at <.n>: wrong type for value; expected string; got interface {}'),
        ("{{.a.b}}", 'template: :1:4: executing "" at <.a.b>: can\'t evaluate field b in type interface {}'),
        ("{{with .a}}{{.b}}{{end}}", 'template: :1:13: executing "" at <.b>: can\'t evaluate field b in type float64'),
        ("{{range .l}}{{.b}}{{end}}", 'template: :1:14: executing "" at <.b>: can\'t evaluate field b in type interface {}'),
        ("{{range .s}}x{{end}}", 'template: :1:8: executing "" at <.s>: range can\'t iterate over héllo'),
        ("{{template \"nope\"}}", 'template: :1:11: executing "" at <{{template "nope"}}>: template "nope" not defined'),
        ("{{.a | .m}}", 'template: :1:7: executing "" at <.m>: m is not a method but has arguments'),
        ("{{\"x\" 1}}", 'template: :1:2: executing "" at <"x">: can\'t give argument to non-function "x"'),
        ("{{nil}}", 'template: :1:2: executing "" at <nil>: nil is not a command'),
        ("{{truncate .s 1.5}}", 'template: :1:14: executing "" at <1.5>: expected integer; found 1.5'),
        ("{{truncate .s \"1\"}}", 'template: :1:14: executing "" at <"1">: expected integer; found "1"'),
        ("{{upper nil}}", 'template: :1:8: executing "" at <nil>: cannot assign nil to string'),
        ("{{printf}}", 'template: :1:2: executing "" at <printf>: wrong number of args for printf: want at least 1 got 0'),
        ("{{len 1 2}}", 'template: :1:2: executing "" at <len>: wrong number of args for len: want 1 got 2'),
        ("{{eq 1}}", 'template: :1:2: executing "" at <eq 1>: error calling eq: missing argument for comparison'),
        ("{{eq .m .m}}", 'template: :1:2: executing "" at <eq .m .m>: error calling eq: non-comparable type '
         "map[a:<nil> b:x c:[%!s(float64=1) <nil> s]]: map[string]interface {}"),
        ("{{slice .l 2 1}}", 'template: :1:2: executing "" at <slice .l 2 1>: error calling slice: invalid slice index: 2 > 1'),
        ("{{join .l \",\"}}", 'template: :1:7: executing "" at <.l>: wrong type for value; expected []string; '
         "got []interface {}"),
        ("l1\nl2 {{ .n.x }}\n", 'template: :2:8: executing "" at <.n.x>: nil pointer evaluating interface {}.x'),
        ("{{define \"t\"}}\n{{.x}}{{end}}{{template \"t\" .a}}", 'template: :2:2: executing "t" at <.x>: '
         "can't evaluate field x in type float64"),
        ("{{index .Config.Labels \"a.b\" | printf \"%s\" | upper | printf \"%s and more text\" | len | .x}}",
         'template: :1:87: executing "" at <.x>: x is not a method but has arguments'),
    ],
)
def test_execution_errors_go_verified(tpl, msg):  # go
    assert err(tpl, DATA | {"Config": {"Labels": {"a.b": "c"}}}) == msg


def test_error_keeps_partial_output():
    with pytest.raises(TemplateError) as ei:
        render("{{range .l}}{{.}}{{end}}{{.s.x}}", DATA)
    assert ei.value.partial == "123"
    assert str(ei.value).startswith("template: ")


def test_docker_nil_pointer_message():  # docker (raw fallback of `{{.Config.Cmd.X}}`)
    assert err("{{.Config.Cmd.X}}", IMAGE) == (
        'template: :1:9: executing "" at <.Config.Cmd.X>: nil pointer evaluating interface {}.X'
    )


def test_error_context_is_the_node_text():  # go
    assert err('{{printf "%s" "a very long string argument" .n.x}}') == (
        'template: :1:46: executing "" at <.n.x>: nil pointer evaluating interface {}.x'
    )
    assert err("{{index .l 1 2 3 4 5 6 7 8 9 10 11}}") == (
        'template: :1:2: executing "" at <index .l 1 2 3 4 5 6 7 8 9 10 11>: '
        "error calling index: can't index item of type float64"
    )
    assert err('{{(index .m "c").x}}') == (
        'template: :1:12: executing "" at <"c">: can\'t evaluate field x in type []interface {}'
    )


# ---------------------------------------------------------------- missingkey


def test_missingkey_error_like_docker_inspect_raw_fallback():  # go + docker
    assert err("{{.Nope}}", IMAGE, missingkey="error") == (
        'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"'
    )
    assert err("{{.Config.Nope}}", IMAGE, missingkey="error") == (
        'template: :1:9: executing "" at <.Config.Nope>: map has no entry for key "Nope"'
    )
    assert err("{{.Nope.X}}", IMAGE, missingkey="error") == (
        'template: :1:7: executing "" at <.Nope.X>: map has no entry for key "Nope"'
    )
    assert render("{{.Config.Cmd}}|{{index .Config.Labels \"q\"}}", IMAGE, missingkey="error") == (
        "<no value>|<no value>"
    )
    assert err("{{(index .m \"zz\").q}}", missingkey="error") == (
        'template: :1:12: executing "" at <"zz">: nil data; no entry for key "q"'
    )


def test_missingkey_zero():  # go
    assert render("{{.Nope}}|{{.m.zz}}", DATA, missingkey="zero") == "<no value>|<no value>"
    assert err("{{.missing.b}}", missingkey="zero") == (
        'template: :1:10: executing "" at <.missing.b>: nil pointer evaluating interface {}.b'
    )
    assert render("{{.missing.b}}", DATA) == "<no value>"
    with pytest.raises(ValueError):
        parse("x", missingkey="bogus")


# ---------------------------------------------------------------- parse errors


@pytest.mark.parametrize(
    "tpl,msg",
    [
        ("{{ .Os }", 'template: :1: unexpected "}" in operand'),  # docker
        ("{{.a}}\n{{.Nope}", "template: :2: bad character U+007D '}'"),
        ("x\ny\n{{.a", "template: :3: unclosed action"),
        ("{{\"abc}}", "template: :1: unterminated quoted string"),
        ("{{if}}{{end}}", "template: :1: missing value for if"),
        ("{{end}}", "template: :1: unexpected {{end}}"),
        ("{{else}}", "template: :1: unexpected {{else}}"),
        ("{{if .a}}", "template: :1: unexpected EOF"),
        ("{{range .l}}{{else}}{{else}}{{end}}", "template: :1: expected end; found {{else}}"),
        ("{{break}}", "template: :1: {{break}} outside {{range}}"),
        ("{{with 1}}{{break}}{{end}}", "template: :1: {{break}} outside {{range}}"),
        ("{{range .l}}{{break 1}}{{end}}", 'template: :1: unexpected "1" in {{break}}'),
        ("{{$y}}", 'template: :1: undefined variable "$y"'),
        ("{{nofunc 1}}", 'template: :1: function "nofunc" not defined'),
        ("{{.a | 1}}", "template: :1: non executable command in pipeline stage 2"),
        ("{{(1}}", "template: :1: unclosed left paren"),
        ("{{1)}}", 'template: :1: unexpected ")" in command'),
        ("{{3x}}", 'template: :1: bad number syntax: "3x"'),
        ("{{.a.}}", "template: :1: unexpected <.> in operand"),
        ("{{\"x\".y}}", 'template: :1: unexpected . after term "\\"x\\""'),
        ("{{ 'ab' }}", "template: :1: malformed character constant: 'ab'"),
        ("{{\"\\z\"}}", "template: :1: invalid syntax"),
        ("{{99999999999999999999}}", 'template: :1: integer overflow: "99999999999999999999"'),
        ("{{.a:=1}}", "template: :1: unexpected \":=\" in operand"),
        ("{{range $a, $b, $c := .l}}{{end}}", "template: :1: too many declarations in range"),
        ("{{if $a, $b := .l}}{{end}}", "template: :1: too many declarations in if"),
        ("{{template .a}}", 'template: :1: unexpected ".a" in template clause'),
        ("{{define \"q\"}}a{{end}}{{define \"q\"}}b{{end}}", 'template: :1: template: multiple definition of template "q"'),
        ("{{if .a}}{{define \"b\"}}{{end}}{{end}}", "template: :1: unexpected <define> in command"),
        ("{{/* unclosed", "template: :1: unclosed comment"),
        ("{{/* x */.a}}", "template: :1: comment ends before closing delimiter"),
        ("{{$x = 1}}", None),  # parses; fails at execution
    ],
)
def test_parse_errors_go_verified(tpl, msg):  # go
    if msg is None:
        with pytest.raises(TemplateError, match="undefined variable: \\$x"):
            render(tpl, DATA)
        return
    with pytest.raises(TemplateError) as ei:
        parse(tpl)
    assert str(ei.value) == msg


def test_docker_truncate_pipe_error():  # docker: `images --format 'table ... {{.Repository | truncate 3}}'`
    t = parse(strip_table("table {{.Tag | upper}}\\t{{json .Tag}}\\t{{.Repository | truncate 3}}"))
    with pytest.raises(TemplateError) as ei:
        t.execute({"Tag": "v1", "Repository": "strata"})
    assert str(ei.value) == 'template: :1:56: executing "" at <3>: expected string; found 3'


# ---------------------------------------------------------------- table helpers


def test_is_table_and_strip_table():
    assert is_table("table {{.ID}}")
    assert is_table("tablex")
    assert not is_table(" table {{.ID}}")
    assert not is_table("{{.ID}}")
    assert strip_table("table {{.Repository}}\\t{{.Tag}}") == "{{.Repository}}\t{{.Tag}}"
    assert strip_table("table   {{.A}}\\n  ") == "{{.A}}\n"
    assert pre_format("json") == "{{json .}}"
    assert pre_format("  table   {{.Tag}}:{{.Repository}}\\n--  ") == "table   {{.Tag}}:{{.Repository}}\n--"
    assert pre_format("{{.ID}}\\t{{.Tag}}") == "{{.ID}}\t{{.Tag}}"


def test_header_functions():
    t = parse(strip_table("table {{truncate .ID 3 | upper}}\\t{{json .Tag}}\\t{{pad .Size 1 1}}"))
    header = {"ID": "IMAGE ID", "Tag": "TAG", "Size": "SIZE"}
    assert t.execute_header(header) == "IMAGE ID\tTAG\t SIZE "
    assert t.execute({"ID": "abcdef", "Tag": "v1", "Size": "1MB"}) == 'ABC\t"v1"\t 1MB '


def test_tabulate_docker_images_output():  # docker
    out = tabulate(
        [
            ["REPOSITORY", "TAG"],
            ["strata-gotmpl-2860324591-big", "v1"],
            ["strata-gotmpl-2860324591", "latest"],
        ]
    )
    assert out == (
        "REPOSITORY                     TAG\n"
        "strata-gotmpl-2860324591-big   v1\n"
        "strata-gotmpl-2860324591       latest\n"
    )
    out = tabulate([["TAG", "REPOSITORY", "TAG"], ["v1", "strata-gotmpl-2860324591-big", "v1"],
                    ["latest", "strata-gotmpl-2860324591", "latest"]])
    assert out == (
        "TAG       REPOSITORY                     TAG\n"
        "v1        strata-gotmpl-2860324591-big   v1\n"
        "latest    strata-gotmpl-2860324591       latest\n"
    )
    assert tabulate([["TAG"], ["v1"], ["latest"]]) == "TAG\nv1\nlatest\n"


@pytest.mark.parametrize(
    "text,want",
    [  # go (text/tabwriter with NewWriter(out, 10, 1, 3, ' ', 0))
        ("A\tB\n", "A         B\n"),
        ("a\tb\tc\nlonger-than-ten\tx\ty\n\nq\tr\n",
         "a                 b         c\nlonger-than-ten   x         y\n\nq         r\n"),
        ("a\tb\nno tab\nc\td\n", "a         b\nno tab\nc         d\n"),
        ("a\t\tc\n\tb\t\n", "a                   c\n          b         \n"),
        ("x\ty", "x         y"),
        ("trailing\t\n", "trailing   \n"),
        ("a\tb\tc\nd\n e\tf\n", "a         b         c\nd\n e        f\n"),
        ("a\tb\fc\td\n", "a         b\nc         d\n"),
        ("", ""),
        ("\n\n", "\n\n"),
        ("日本語\tx\nab\ty\n", "日本語    x\nab        y\n"),  # display width, as docker's fork
    ],
)
def test_tabwrite(text, want):
    assert tabwrite(text) == want


def test_tabulate_parameters():
    assert tabulate([["a", "b"], ["ccc", "d"]], minwidth=0, padding=1) == "a   b\nccc d\n"


# ---------------------------------------------------------------- live docker (opt-in)


def test_live_docker_inspect(tmp_path):
    # docker is the oracle: scripts/setup installs and starts it
    name = "strata-gotmpl-%s" % uuid.uuid4().hex[:12]
    f = tmp_path / "hello.txt"
    f.write_text("hello\n")
    tar = tmp_path / "t.tar"
    with tarfile.open(tar, "w") as tf:
        tf.add(f, arcname="hello.txt")
    subprocess.run(
        ["docker", "import", "-c", "LABEL a.b=c", "-c", "LABEL z=<&>", "-c", "ENV FOO=bar", str(tar), name + ":latest"],
        check=True, capture_output=True,
    )
    try:
        raw = json.loads(
            subprocess.run(["docker", "image", "inspect", name + ":latest"], check=True, capture_output=True,
                           text=True).stdout
        )[0]
        for tpl in [
            "{{.Size}}", "{{.Config.Labels}}", "{{json .Config.Labels}}", "{{.Config.Env}}",
            "{{index .Config.Labels \"a.b\"}}", "{{len .RootFS.Layers}}", "{{.Os | upper}}",
            "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}", "{{json .RootFS}}",
            "{{truncate .Id 12}}", "{{.Config.Labels.nope}}", "{{if .Config.Tty}}y{{else}}n{{end}}",
        ]:
            got = subprocess.run(["docker", "image", "inspect", "--format", tpl, name + ":latest"],
                                 check=True, capture_output=True, text=True).stdout
            assert render(tpl, raw) + "\n" == got, tpl
    finally:
        subprocess.run(["docker", "image", "rm", name + ":latest"], capture_output=True)


# ---------------------------------------------------------------- differential test against Go (optional)

_GO_ORACLE = r'''
package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"text/template"
)

type tcase struct {
	Template string          `json:"template"`
	Data     json.RawMessage `json:"data"`
}
type result struct {
	Out string `json:"out"`
	Err string `json:"err"`
}

func main() {
	funcs := template.FuncMap{
		"json": func(v any) string {
			b := &bytes.Buffer{}
			e := json.NewEncoder(b)
			e.SetEscapeHTML(false)
			e.Encode(v)
			return strings.TrimSpace(b.String())
		},
		"split": strings.Split, "join": strings.Join, "title": strings.Title,
		"lower": strings.ToLower, "upper": strings.ToUpper,
		"pad": func(s string, p, q int) string {
			if s == "" {
				return s
			}
			return strings.Repeat(" ", p) + s + strings.Repeat(" ", q)
		},
		"truncate": func(s string, n int) string {
			if len(s) < n {
				return s
			}
			return s[:n]
		},
	}
	var cases []tcase
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	out := []result{}
	for _, c := range cases {
		var data any
		if err := json.Unmarshal(c.Data, &data); err != nil {
			panic(err)
		}
		t, err := template.New("").Funcs(funcs).Parse(c.Template)
		if err != nil {
			out = append(out, result{Err: err.Error()})
			continue
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		r := result{Out: buf.String()}
		if err != nil {
			r.Err = err.Error()
		}
		out = append(out, r)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
'''

_DIFF_CORPUS = [
    "{{.}}", "{{.m}}", "{{.n.x}}", "{{.m.c}}", "{{json .m.c}}", "{{json .l}}", "{{len .s}} {{len .l}} {{len .m}}",
    "{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}", "{{range .m.c}}[{{.}}]{{end}}", "{{index .m.c 2}}",
    "{{if .n}}a{{else if .t}}b{{end}}", "{{with .m.b}}{{.}}{{end}}", "{{printf \"%v|%s|%d|%q\" .l .s .a .s}}",
    "{{printf \"%5.2f|%e|%g|%x\" .f .big .neg 255}}", "{{print .a .f \"x\" .n}}", "{{println .l .m.b}}",
    "{{.big}} {{.z}} {{.neg}} {{.f}} {{1e6}} {{1234567.0}} {{0.00001}}",
    "{{and .a .s}} {{or .n .e .s}} {{not .em}}", "{{eq .s \"héllo\"}} {{lt .f 2.0}} {{ne .a 2.0}}",
    "{{upper .s}} {{title .s}} {{truncate .s 3}} {{pad .s 1 2}}|{{split .s \"l\"}}",
    "{{join (split \"a,b\" \",\") \"+\"}}", "{{html .s}} {{urlquery .s}} {{js .s}}", "{{slice .s 1 3}}",
    "{{$x := .l}}{{range $i, $e := $x}}{{$i}}:{{$e}} {{end}}", "{{- \"a\" }}  {{ \"b\" -}}  c",
    "{{.a.b}}", "{{upper .a}}", "{{index .l 7}}", "{{eq .a 1}}", "{{.n | len}}", "{{ .x }",
    "{{range .s}}{{end}}", "{{template \"z\"}}", "{{define \"d\"}}<{{.}}>{{end}}{{template \"d\" .l}}",
]


def test_differential_against_go(tmp_path):
    # Go's own text/template is the oracle: scripts/setup installs Debian's golang-go
    assert shutil.which("go"), "no Go toolchain on PATH (apt-get install golang-go)"
    (tmp_path / "main.go").write_text(_GO_ORACLE)
    (tmp_path / "go.mod").write_text("module oracle\n\ngo 1.19\n")
    env = dict(os.environ, GOFLAGS="-mod=mod", GOCACHE=str(tmp_path / "cache"), GOPATH=str(tmp_path / "gopath"),
               GOTOOLCHAIN="local", GOPROXY="off")
    build = subprocess.run(["go", "build", "-o", str(tmp_path / "oracle"), "."], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
    assert build.returncode == 0, "cannot build the Go oracle: " + build.stderr[-500:]
    data = DATA | {"l": [1, 2, 3]}  # JSON numbers reach Go as float64
    cases = [{"template": t, "data": data} for t in _DIFF_CORPUS]
    res = subprocess.run([str(tmp_path / "oracle")], input=json.dumps(cases), capture_output=True, text=True,
                         check=True)
    py_data = json.loads(json.dumps(data), parse_int=float)
    for tpl, r in zip(_DIFF_CORPUS, json.loads(res.stdout)):
        try:
            out, msg = render(tpl, py_data), ""
        except TemplateError as e:
            out, msg = e.partial, str(e)
        assert (out, msg) == (r["out"], r["err"]), tpl


def test_no_value_sentinel():
    assert repr(NO_VALUE) == "NO_VALUE"
    assert not NO_VALUE

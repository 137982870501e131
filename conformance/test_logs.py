"""logs (issue 20): timestamps, --since/--until (RFC 3339 and Unix times), --tail, -f that
ends with the container, and the refusal of a time that is none."""
import json
import re
import time

from conformance.messages import expect_message

STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,9}Z) (.*)")
THREE_LINES = ["sh", "-c", "echo one; sleep 1.2; echo two; sleep 1.2; echo three"]


def stamped(cli, name: str) -> list[tuple[str, str]]:
    """(time, text) for each line of `logs -t`."""
    found = []
    for line in cli.ok("logs", "-t", name).lines:
        match = STAMP.fullmatch(line)
        assert match, line
        found.append(match.groups())
    return found


def test_timestamps_prefix_each_line_in_rfc3339_nano(cli, base, names):
    name = names("three")
    cli.ok("run", "--name", name, base.ref, *THREE_LINES)
    lines = stamped(cli, name)
    assert [text for _, text in lines] == ["one", "two", "three"]
    times = [t for t, _ in lines]
    assert times == sorted(times)
    assert times[0] >= cli.inspect(name, "{{.State.StartedAt}}")[:19]


def test_since_and_until_take_rfc3339_times_and_include_the_edge(cli, base, names):
    name = names("three")
    cli.ok("run", "--name", name, base.ref, *THREE_LINES)
    second = stamped(cli, name)[1][0]
    assert cli.ok("logs", "--since", second, name).lines == ["two", "three"]
    assert cli.ok("logs", "--until", second, name).lines == ["one", "two"]
    assert cli.ok("logs", "--since", second, "--until", second, name).lines == ["two"]


def test_since_takes_unix_times(cli, base, names):
    name = names("three")
    cli.ok("run", "--name", name, base.ref, *THREE_LINES)
    assert cli.ok("logs", "--since", "0", name).lines == ["one", "two", "three"]
    future = str(int(time.time()) + 3600)
    assert cli.ok("logs", "--since", future, name).lines == []
    assert cli.ok("logs", "--until", "1000000000.5", name).lines == []


def test_since_takes_a_relative_duration(cli, base, names):
    name = names("three")
    cli.ok("run", "--name", name, base.ref, *THREE_LINES)
    assert cli.ok("logs", "--since", "1h", name).lines == ["one", "two", "three"]
    time.sleep(2.1)  # a relative time is whole seconds before now: every line is older than that
    assert cli.ok("logs", "--since", "1s", name).lines == []


def test_a_time_that_is_none_is_refused(cli, base, names, messages):
    name = names("talk")
    cli.ok("run", "--name", name, base.ref, "echo", "hi")
    result = cli.fails("logs", "--since", "bogus", name)
    assert result.rc == 1
    expect_message(result.stderr, messages, "logs.bad_time", flag="since", value="bogus")


def test_tail_keeps_the_last_lines(cli, base, names):
    name = names("count")
    cli.ok("run", "--name", name, base.ref, "sh", "-c", "for i in 1 2 3 4 5; do echo $i; done")
    assert cli.ok("logs", "--tail", "2", name).lines == ["4", "5"]
    assert cli.ok("logs", "--tail", "0", name).stdout == ""
    assert cli.ok("logs", "--tail", "all", name).lines == ["1", "2", "3", "4", "5"]
    assert cli.ok("logs", "-n", "1", name).lines == ["5"]


def test_tail_counts_both_streams(cli, base, names):
    name = names("mixed")
    cli.ok("run", "--name", name, base.ref, "sh", "-c", "echo a; sleep 0.2; echo b >&2; sleep 0.2; echo c")
    out = cli.ok("logs", "--tail", "2", name)
    assert out.stdout == "c\n"
    assert out.stderr == "b\n"


def test_follow_streams_until_the_container_stops(cli, base, names):
    name = names("follow")
    cli.ok("run", "-d", "--name", name, base.ref, "sh", "-c", "echo first; sleep 2; echo last")
    started = time.monotonic()
    out = cli.ok("logs", "-f", name, timeout=30)
    assert out.lines == ["first", "last"]
    assert time.monotonic() - started >= 1  # it waited for the second line, then ended


# --- log drivers -------------------------------------------------------------------------------

def test_log_driver_none_keeps_nothing_and_logs_is_refused(cli, base, names, messages):
    name = names("none")
    assert cli.ok("run", "--name", name, "--log-driver", "none", base.ref, "echo", "hi").stdout == "hi\n"
    refused = cli.fails("logs", name)
    assert refused.rc == 1
    expect_message(refused.stderr, messages, "logs.no_reading")
    assert cli.inspect(name, "{{json .HostConfig.LogConfig}}|{{.LogPath}}") == '{"Type":"none","Config":{}}|'


def test_json_file_max_size_and_max_file_keep_the_last_lines(cli, base, names):
    name = names("rotated")
    cli.ok("run", "--name", name, "--log-opt", "max-size=1k", "--log-opt", "max-file=2", base.ref, "sh", "-c",
           "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done")
    kept = cli.ok("logs", name).lines
    assert kept[-1] == "line-199" and 5 < len(kept) < 60, kept     # two files of about 1 kB
    numbers = [int(line.removeprefix("line-")) for line in kept]
    assert numbers == list(range(numbers[0], 200)), kept           # the newest lines, none lost between
    assert json.loads(cli.inspect(name, "{{json .HostConfig.LogConfig}}")) == {
        "Type": "json-file", "Config": {"max-file": "2", "max-size": "1k"}}


def test_an_unknown_log_driver_option_or_size_is_refused(cli, base, messages):
    for flags, key, values in ((["--log-driver", "bogus"], "logs.unknown_driver", {"driver": "bogus"}),
                               (["--log-opt", "colour=red"], "logs.unknown_opt", {"opt": "colour"}),
                               (["--log-opt", "max-size=bogus"], "logs.bad_size", {"size": "bogus"})):
        result = cli.fails("run", "--rm", *flags, base.ref, "true")
        assert result.rc == 125
        expect_message(result.stderr, messages, key, **values)

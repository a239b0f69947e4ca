"""hiveos: the prompt asks for what checks.md grades, and each check judges the created files."""

from __future__ import annotations

import pytest

from llmbench.tasks import get_task, grade

TASK = get_task("hiveos")
FENCE = "```"

GOOD = {
    "h-manifest.conf": 'CUSTOM_NAME="ethminer"\nCUSTOM_VERSION="0.19.0"\n',
    "h-config.sh": (
        "#!/usr/bin/env bash\n"
        'export POOL="$CUSTOM_URL"\n'
        'export WALLET="$CUSTOM_TEMPLATE"\n'
        'export PASS="$CUSTOM_PASS"\n'
        "export API_PORT=3333\n"
    ),
    "h-run.sh": (
        "#!/usr/bin/env bash\n"
        'cd "$(dirname "$0")"\n'
        ". ./h-config.sh\n"
        "export CUDA_VISIBLE_DEVICES\n"
        'exec ./ethminer -U -P "stratum+tcp://$WALLET:$PASS@${POOL#*://}" --api-port $API_PORT\n'
    ),
    "h-stats.sh": (
        "#!/usr/bin/env bash\n"
        "r=$(echo '{\"id\":0,\"jsonrpc\":\"2.0\",\"method\":\"miner_getstat1\"}' | nc -w 1 127.0.0.1 3333)\n"
        "echo \"$r\" | jq -c '.result as $x | ($x[6]|split(\";\")|map(tonumber)) as $p | "
        "{hs: ($x[3]|split(\";\")|map(tonumber)), temp: [$p[range(0;$p|length;2)]], "
        "fan: [$p[range(1;$p|length;2)]], uptime: (($x[1]|tonumber)*60), ver: $x[0]}'\n"
    ),
}


def answer(files: dict[str, str] | None = None, prelude: str = "mkdir -p ~/Downloads/ethminer\ncd ~/Downloads/ethminer\n") -> str:
    files = dict(GOOD, **(files or {}))
    body = prelude
    for name, content in files.items():
        if content is not None:
            body += f"\ncat > {name} << 'EOF'\n{content}EOF\n"
    return f"Here is the wrapper:\n\n{FENCE}bash\n{body}{FENCE}\n"


def verdicts(text: str) -> dict[str, bool]:
    return {check: v.passed for check, v in grade("hiveos", text).items()}


def test_good_answer_passes_everything():
    assert all(verdicts(answer()).values()), grade("hiveos", answer())


def test_prompt_asks_for_every_graded_requirement_and_creates_no_file():
    prompt = TASK.prompt()
    for needle in ("~/Downloads/ethminer/", "h-manifest.conf", "h-config.sh", "h-run.sh", "h-stats.sh",
                   "heredoc", "mkdir -p", "CUSTOM_URL", "CUSTOM_TEMPLATE", "CUSTOM_PASS", "MINER_*", "exec",
                   "CUDA_VISIBLE_DEVICES", "3333", '"hs"', '"temp"', '"fan"', '"uptime"', '"ver"'):
        assert needle in prompt, needle
    assert FENCE not in prompt  # no file can be copied out of it
    assert TASK.prompt() == prompt
    assert not any(verdicts(prompt).values())


def test_miner_variable_in_any_file_fails_custom_vars():
    stats = GOOD["h-stats.sh"].replace("3333", "${MINER_API_PORT:-3333}")
    result = grade("hiveos", answer({"h-stats.sh": stats}))
    assert not result["hiveos.custom_vars"].passed and "MINER_API_PORT" in result["hiveos.custom_vars"].evidence
    # a MINER_* word in a comment, or CUSTOM_MINER, is not a use
    commented = GOOD["h-run.sh"] + "# HiveOS also sets MINER_* variables; we ignore them\necho $CUSTOM_MINER\n"
    assert verdicts(answer({"h-run.sh": commented}))["hiveos.custom_vars"]


def test_custom_vars_needs_all_three_read_in_h_config():
    config = GOOD["h-config.sh"].replace('export PASS="$CUSTOM_PASS"\n', 'export PASS=x\n')
    assert not verdicts(answer({"h-config.sh": config}))["hiveos.custom_vars"]


@pytest.mark.parametrize("run,passes", [
    (GOOD["h-run.sh"].replace("exec ./ethminer", "nohup ./ethminer"), False),
    (GOOD["h-run.sh"].replace("exec ./ethminer", "screen -dmS eth ./ethminer"), False),
    (GOOD["h-run.sh"].replace("exec ./ethminer", "exec > miner.log 2>&1\n./ethminer"), False),
    (GOOD["h-run.sh"].replace("export CUDA_VISIBLE_DEVICES\n", ""), False),
    (GOOD["h-run.sh"].replace("export CUDA_VISIBLE_DEVICES\n", "export CUDA_VISIBLE_DEVICES=0\n"), False),
    (GOOD["h-run.sh"].replace("exec ./ethminer", "BIN=./ethminer\nexec $BIN"), True),
    # exec in a backgrounded command replaces a subshell, not h-run.sh; a redirect's 2>&1 is no "&"
    (GOOD["h-run.sh"].replace("--api-port $API_PORT\n", "--api-port $API_PORT &\nwait\n"), False),
    (GOOD["h-run.sh"].replace("--api-port $API_PORT\n", "--api-port $API_PORT 2>&1\n"), True),
    (GOOD["h-run.sh"].replace("export CUDA_VISIBLE_DEVICES\n", "export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0}\n"), True),
    # what comes after the exec line never runs
    (GOOD["h-run.sh"].replace("export CUDA_VISIBLE_DEVICES\n", "") + "export CUDA_VISIBLE_DEVICES\n", False),
])
def test_h_run_exec(run, passes):
    assert verdicts(answer({"h-run.sh": run}))["hiveos.h_run_exec"] is passes


def test_h_run_with_a_syntax_error_fails():
    broken = GOOD["h-run.sh"] + "if [ -n \"$X\" ]; then\n  echo x\n"
    result = grade("hiveos", answer({"h-run.sh": broken}))
    assert not result["hiveos.h_run_exec"].passed and "bash -n" in result["hiveos.h_run_exec"].evidence


def test_h_stats_that_never_asks_for_the_stats_fails_the_api_check_too():
    stats = GOOD["h-stats.sh"].replace("miner_getstat1", "miner_ping")
    result = verdicts(answer({"h-stats.sh": stats}))
    assert not result["hiveos.h_stats_json"] and not result["hiveos.api_port"]
    assert verdicts(answer({}))["hiveos.api_port"]


@pytest.mark.parametrize("change,passes", [
    (("ver: $x[0]", "version: $x[0]"), False),                                 # a key missing
    (("hs: ($x[3]|split(\";\")|map(tonumber))", "hs: ($x[2]|split(\";\")[0])"), False),  # hs scalar
    (("miner_getstat1", "miner_ping"), False),                                  # no stats request
    (("echo \"$r\" | jq", "stats=$(echo \"$r\" | jq"), False),                  # built, never printed
])
def test_h_stats_json(change, passes):
    old, new = change
    stats = GOOD["h-stats.sh"].replace(old, new)
    if new.startswith("stats=$("):
        stats = stats.rstrip("\n") + ")\n"
    assert verdicts(answer({"h-stats.sh": stats}))["hiveos.h_stats_json"] is passes


def test_h_stats_keys_in_comments_do_not_count():
    stats = "#!/bin/bash\n# prints {\"hs\":[...],\"temp\":[...],\"fan\":[...],\"uptime\":0,\"ver\":\"x\"}\n" \
            "echo '{\"id\":0,\"method\":\"miner_getstat1\"}' | nc localhost 3333\n"
    assert not verdicts(answer({"h-stats.sh": stats}))["hiveos.h_stats_json"]


def test_a_bash_parameter_expansion_is_not_the_hs_key():
    stats = ("#!/usr/bin/env bash\nraw=$(echo '{\"id\":0,\"method\":\"miner_getstat1\"}' | nc -w 2 127.0.0.1 3333)\n"
             "mapfile -t res < <(jq -r '.result[]?' <<< \"$raw\")\nhs=\"\"\nIFS=';' read -ra gpu <<< \"${res[3]}\"\n"
             "for v in \"${gpu[@]}\"; do hs+=\"${hs:+,}$((v / 1000))\"; done\n"
             "echo \"{\\\"hs\\\":[${hs}],\\\"temp\\\":[],\\\"fan\\\":[],\\\"uptime\\\":0,\\\"ver\\\":\\\"${res[0]}\\\"}\"\n")
    assert verdicts(answer({"h-stats.sh": stats}))["hiveos.h_stats_json"]
    # the same loop printing hs without brackets is no array
    scalar = stats.replace("[${hs}]", "\\\"${hs}\\\"")
    assert not verdicts(answer({"h-stats.sh": scalar}))["hiveos.h_stats_json"]


def test_h_config_must_export_or_be_sourced():
    plain = GOOD["h-config.sh"].replace("export ", "")
    assert verdicts(answer({"h-config.sh": plain}))["hiveos.h_config"]          # h-run.sh sources it
    not_sourced = GOOD["h-run.sh"].replace(". ./h-config.sh\n", "")
    assert not verdicts(answer({"h-config.sh": plain, "h-run.sh": not_sourced}))["hiveos.h_config"]
    assert verdicts(answer({"h-run.sh": not_sourced}))["hiveos.h_config"]       # exported


def test_an_h_run_that_reads_the_flight_sheet_itself_does_not_run_on_h_config_s_settings():
    static = "#!/usr/bin/env bash\nexport ETHMINER_API_PORT=3333\nexport ETHMINER_HWMON=1\n"
    run = ('#!/usr/bin/env bash\ncd "$(dirname "$0")"\n. ./h-config.sh\nexport CUDA_VISIBLE_DEVICES\n'
           'POOL="stratum+tcp://${CUSTOM_TEMPLATE}:${CUSTOM_PASS:-x}@${CUSTOM_URL#*://}"\n'
           'exec ./ethminer -U --HWMON "$ETHMINER_HWMON" -P "$POOL" --api-port "$ETHMINER_API_PORT"\n')
    result = grade("hiveos", answer({"h-config.sh": static, "h-run.sh": run}))["hiveos.h_config"]
    assert not result.passed and "flight sheet" in result.evidence
    # h-config.sh reading the flight sheet too: what h-run.sh uses is (also) its settings
    assert verdicts(answer())["hiveos.h_config"]
    guarded = GOOD["h-run.sh"].replace(". ./h-config.sh\n", '[[ -z "$CUSTOM_URL" ]] && . /hive-config/wallet.conf\n. ./h-config.sh\n')
    assert verdicts(answer({"h-run.sh": guarded}))["hiveos.h_config"]


def test_h_config_linked_by_a_written_file_not_by_dev_null():
    config = ('#!/bin/bash\necho "-P $CUSTOM_URL $CUSTOM_TEMPLATE $CUSTOM_PASS --api-port 3333" > ethminer.args\n'
              'echo done > /dev/null\n')
    run = "#!/bin/bash\nexport CUDA_VISIBLE_DEVICES\nexec ./ethminer $(cat ethminer.args) 2>/dev/null\n"
    result = verdicts(answer({"h-config.sh": config, "h-run.sh": run}))
    assert result["hiveos.h_config"] and result["hiveos.api_port"]
    only_null = '#!/bin/bash\necho "$CUSTOM_URL $CUSTOM_TEMPLATE $CUSTOM_PASS" > /dev/null\n'
    assert not verdicts(answer({"h-config.sh": only_null, "h-run.sh": run}))["hiveos.h_config"]


@pytest.mark.parametrize("prelude,passes", [
    ("mkdir -p $HOME/Downloads/ethminer && cd $HOME/Downloads/ethminer\n", True),
    ("D=/root/Downloads/ethminer\nmkdir -p $D\ncd $D\n", True),
    ("mkdir ~/Downloads/ethminer\ncd ~/Downloads/ethminer\n", False),
    ("cd ~/Downloads/ethminer\n", False),
    ("mkdir -p /hive/miners/custom/ethminer && cd /hive/miners/custom/ethminer\n", False),
    ("", False),
])
def test_directory(prelude, passes):
    assert verdicts(answer(prelude=prelude))["hiveos.directory"] is passes


@pytest.mark.parametrize("flag,passes", [
    ("--api-port $API_PORT", True),
    ("--api-port -3333", True),
    ("--api-bind 127.0.0.1:3333", True),
    ("--api-port=3333", True),
    ("--api-port 4028", False),
    ("", False),
])
def test_api_port(flag, passes):
    run = GOOD["h-run.sh"].replace("--api-port $API_PORT", flag)
    assert verdicts(answer({"h-run.sh": run}))["hiveos.api_port"] is passes


def test_heredocs_needs_every_created_wrapper_file_by_complete_heredoc():
    text = answer() + f"\n### h-stats.sh\n{FENCE}bash\necho hi\n{FENCE}\n"   # a display of an existing file
    assert verdicts(text)["hiveos.heredocs"]
    fenced = answer({"h-stats.sh": None}) + f"\n### h-stats.sh\n{FENCE}bash\n{GOOD['h-stats.sh']}{FENCE}\n"
    assert not verdicts(fenced)["hiveos.heredocs"]
    truncated = answer().rsplit("EOF", 1)[0]
    assert not verdicts(truncated)["hiveos.heredocs"]


def test_heredocs_fails_an_unquoted_delimiter_only_when_bash_changes_the_text():
    plain = answer().replace("<< 'EOF'", "<< EOF", 1)      # the manifest: nothing to expand
    assert "<< EOF" in plain and verdicts(plain)["hiveos.heredocs"]
    expanded = answer().replace("<< 'EOF'", "<< EOF")     # h-config.sh's $CUSTOM_URL filled in empty
    verdict = grade("hiveos", expanded)["hiveos.heredocs"]
    assert not verdict.passed and "$CUSTOM_URL" in verdict.evidence


def test_manifest():
    assert not verdicts(answer({"h-manifest.conf": 'CUSTOM_NAME="ethminer"\n'}))["hiveos.manifest"]
    assert not verdicts(answer({"h-manifest.conf": 'CUSTOM_NAME="my-ethminer"\nCUSTOM_VERSION=1\n'}))["hiveos.manifest"]
    assert verdicts(answer({"h-manifest.conf": "CUSTOM_NAME=ethminer\nCUSTOM_VERSION=0.19.0\n"}))["hiveos.manifest"]


def test_reference_answer_files_are_what_the_checks_expect():
    from llmbench.grading.filetree import parse_file_tree

    tree = parse_file_tree(TASK.reference_answer())
    assert set(tree.files) == {f"~/Downloads/ethminer/{n}" for n in GOOD}
    assert all(f.how == "heredoc" and f.complete and f.quoted for f in tree.files.values())


@pytest.mark.parametrize("last_line,passes", [
    ('echo "$stats" > /run/hive/ethminer-stats.json\n', False),   # written to a file: prints nothing
    ('echo "$stats" >&2\n', False),                                # to stderr: not the output
    ('echo "ethminer stats updated"\n', False),                    # prints, but not the JSON
    ('echo "$stats"\n', True),
    ('printf "%s\\n" "$stats" 2>/dev/null\n', True),
    ('cat << JSON\n$stats\nJSON\n', True),                         # a heredoc to standard output, `<<` spaced
    ('cat << JSON > /run/hive/stats.json\n$stats\nJSON\n', False),
])
def test_h_stats_must_print_the_json_to_standard_output(last_line, passes):
    stats = GOOD["h-stats.sh"].replace("echo \"$r\" | jq", "stats=$(echo \"$r\" | jq").rstrip("\n") + ")\n" + last_line
    assert verdicts(answer({"h-stats.sh": stats}))["hiveos.h_stats_json"] is passes


def test_jq_comparison_is_not_a_redirect():
    stats = GOOD["h-stats.sh"].replace("temp: [", "n: ([$x[3]|split(\";\")[]|select(length > 0)]|length), temp: [")
    assert verdicts(answer({"h-stats.sh": stats}))["hiveos.h_stats_json"]


def test_python_h_stats_is_parsed_as_python_not_bash():
    stats = (
        "#!/usr/bin/env python3\nimport json, socket\n"
        "s = socket.create_connection(('127.0.0.1', 3333), timeout=3)\n"
        "s.sendall(b'{\"id\":0,\"jsonrpc\":\"2.0\",\"method\":\"miner_getstat1\"}\\n')\n"
        "r = json.loads(s.makefile().readline())['result']\n"
        "tf = [int(x) for x in r[6].split(';') if x]\n"
        "print(json.dumps({'hs': [float(x) for x in r[3].split(';')], 'temp': tf[0::2], 'fan': tf[1::2],\n"
        "                  'uptime': int(r[1]) * 60, 'ver': r[0]}))\n"
    )
    assert verdicts(answer({"h-stats.sh": stats}))["hiveos.h_stats_json"]
    broken = stats.replace("print(json.dumps(", "print(json.dumps((")
    result = grade("hiveos", answer({"h-stats.sh": broken}))["hiveos.h_stats_json"]
    assert not result.passed and "python" in result.evidence


# --- output shape, printf formats, installers (second validation round) -----------------

_STATS_VAR = GOOD["h-stats.sh"].replace("echo \"$r\" | jq", "stats=$(echo \"$r\" | jq").rstrip("\n") + ")\n"


@pytest.mark.parametrize("tail,passes", [
    # HiveOS-agent habit: the total first, then the JSON: two lines, the first no JSON object
    ('khs=$(jq -r \'.result[2] | split(";")[0]\' <<< "$r")\necho "$khs"\necho "$stats"\n', False),
    ('khs=$(jq -r \'.result[2] | split(";")[0]\' <<< "$r")\nprintf \'%s\\n\' "$khs" "$stats"\n', True),   # one printf line: not judged
    # a message in a failure branch, or behind ||, is not the normal output
    ('if [[ -z $stats ]]; then\n  echo "$r"\n  exit 1\nfi\necho "$stats"\n', True),
    ('[[ -n $stats ]] || echo "$r"\necho "$stats"\n', True),
    ('khs=$(jq -r \'.result[2]\' <<< "$r")\necho "$stats"\n', True),   # khs computed, never printed
])
def test_h_stats_extra_non_json_line_breaks_the_output(tail, passes):
    assert verdicts(answer({"h-stats.sh": _STATS_VAR + tail}))["hiveos.h_stats_json"] is passes


@pytest.mark.parametrize("hs_value,passes", [
    ('$(jq -c \'.result[3] | split(";") | map(tonumber)\' <<< "$r")', True),
    ('$(jq -r \'.result[2] | split(";")[0]\' <<< "$r")', False),       # the total: a number
])
def test_h_stats_printf_format_takes_its_values_from_the_arguments(hs_value, passes):
    stats = (
        "#!/usr/bin/env bash\n"
        "r=$(echo '{\"id\":0,\"jsonrpc\":\"2.0\",\"method\":\"miner_getstat1\"}' | nc -w 1 127.0.0.1 3333)\n"
        f"hs={hs_value}\n"
        "t=$(jq -c '[.result[6] | split(\";\") | map(tonumber) | .[range(0; length; 2)]]' <<< \"$r\")\n"
        "f=$(jq -c '[.result[6] | split(\";\") | map(tonumber) | .[range(1; length; 2)]]' <<< \"$r\")\n"
        "up=$(( $(jq -r '.result[1]' <<< \"$r\") * 60 ))\nver=$(jq -r '.result[0]' <<< \"$r\")\n"
        'printf \'{"ver":"%s","hs":%s,"temp":%s,"fan":%s,"uptime":%s}\\n\' "$ver" "$hs" "$t" "$f" "$up"\n'
    )
    result = grade("hiveos", answer({"h-stats.sh": stats}))["hiveos.h_stats_json"]
    assert result.passed is passes, result.evidence


def test_files_written_by_printf_lines_keep_their_backslashes():
    """`printf '%s\\n' 'line' …` writes each argument as it is: a `\\n` inside stays two characters."""
    lines = GOOD["h-stats.sh"].splitlines()
    quoted = " ".join("'" + line.replace("'", "'\\''") + "'" for line in lines)
    text = answer({"h-stats.sh": None}) + f"\n{FENCE}bash\ncd ~/Downloads/ethminer\nprintf '%s\\n' {quoted} > h-stats.sh\n{FENCE}\n"
    result = grade("hiveos", text)
    assert result["hiveos.h_stats_json"].passed, result["hiveos.h_stats_json"].evidence
    assert not result["hiveos.heredocs"].passed


def test_installer_written_by_a_heredoc_and_run_creates_the_files():
    inner = answer().split(f"{FENCE}bash\n", 1)[1].rsplit(FENCE, 1)[0]
    text = (f"{FENCE}bash\ncat > /tmp/install-wrapper.sh << 'INSTALL'\n{inner}INSTALL\n"
            f"bash /tmp/install-wrapper.sh\n{FENCE}\n")
    assert all(verdicts(text).values()), grade("hiveos", text)
    never_run = text.replace("bash /tmp/install-wrapper.sh\n", "")
    assert not any(verdicts(never_run).values())


def test_files_given_under_headings_are_not_run_as_commands():
    """`### h-run.sh` + a block: its `cd "$(dirname "$0")"` is the file's text, not a cd."""
    text = f"{FENCE}bash\nmkdir -p ~/Downloads/ethminer && cd ~/Downloads/ethminer\n{FENCE}\n"
    for name, content in GOOD.items():
        text += f"\n### {name}\n\n{FENCE}bash\n{content}{FENCE}\n"
    result = verdicts(text)
    assert result["hiveos.directory"] and not result["hiveos.heredocs"]
    assert all(v for k, v in result.items() if k != "hiveos.heredocs")


def test_crlf_line_endings_change_nothing():
    text = answer().replace("\n", "\r\n")
    assert all(verdicts(text).values()), grade("hiveos", text)


def test_dash_heredoc_with_tab_indented_bodies():
    body = "mkdir -p ~/Downloads/ethminer\ncd ~/Downloads/ethminer\n"
    for name, content in GOOD.items():
        indented = "".join("\t" + line + "\n" for line in content.splitlines())
        body += f"cat > {name} <<-'EOF'\n{indented}\tEOF\n"
    text = f"{FENCE}bash\n{body}{FENCE}\n"
    assert all(verdicts(text).values()), grade("hiveos", text)


def test_a_heredoc_holding_another_with_the_same_delimiter_fails_heredocs():
    stats = ("#!/usr/bin/env bash\nresp=$(echo '{\"id\":0,\"method\":\"miner_getstat1\"}' | nc -w 1 127.0.0.1 3333)\n"
             "python3 - \"$resp\" << 'EOF'\nimport json, sys\nprint(json.dumps({\"hs\": [1], \"temp\": [], \"fan\": [], "
             "\"uptime\": 0, \"ver\": \"x\"}))\nEOF\n")
    result = grade("hiveos", answer({"h-stats.sh": stats}))
    assert not result["hiveos.heredocs"].passed and "same delimiter EOF" in result["hiveos.heredocs"].evidence
    inner_py = stats.replace("<< 'EOF'", "<< 'PY'").replace("\nEOF\n", "\nPY\n")
    assert grade("hiveos", answer({"h-stats.sh": inner_py}))["hiveos.heredocs"].passed


def test_a_block_shown_as_the_gist_of_a_file_or_under_two_names_is_not_that_file():
    heredocs = answer({"h-run.sh": None, "h-stats.sh": None})
    gist = (heredocs + "\n`h-run.sh` and `h-stats.sh` follow the same pattern. The run script boils down to:\n\n"
            f"{FENCE}bash\n{GOOD['h-run.sh']}{FENCE}\n")
    result = grade("hiveos", gist)
    assert not result["hiveos.h_run_exec"].passed and "no h-run.sh created" in result["hiveos.h_run_exec"].evidence
    captioned = heredocs + f"\n**~/Downloads/ethminer/h-run.sh:**\n\n{FENCE}bash\n{GOOD['h-run.sh']}{FENCE}\n"
    assert grade("hiveos", captioned)["hiveos.h_run_exec"].passed


def test_commands_on_a_file_under_a_caption_naming_it_are_not_its_text():
    text = answer() + ("\nSave each file at the path in its heading (for example with `nano ~/Downloads/ethminer/h-run.sh`), "
                       f"then:\n\n{FENCE}bash\nchmod +x ~/Downloads/ethminer/h-run.sh ~/Downloads/ethminer/h-stats.sh\n{FENCE}\n")
    assert verdicts(text)["hiveos.h_run_exec"], grade("hiveos", text)["hiveos.h_run_exec"]

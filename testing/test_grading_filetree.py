"""The HiveOS file-tree parser: which files an answer creates, how, where, and with what text."""

from __future__ import annotations

import shutil

import pytest

from llmbench.grading.filetree import bash_syntax_error, parse_file_tree

FENCE = "```"


def block(body: str, info: str = "bash") -> str:
    return f"{FENCE}{info}\n{body.strip()}\n{FENCE}\n"


def test_heredoc_after_mkdir_and_cd_lands_in_the_directory():
    tree = parse_file_tree(block(
        "mkdir -p ~/Downloads/ethminer\n"
        "cd ~/Downloads/ethminer\n"
        "cat > h-run.sh << 'EOF'\n"
        "#!/usr/bin/env bash\n"
        "exec ./ethminer \"$@\"\n"
        "EOF\n"
    ))
    record = tree.files["~/Downloads/ethminer/h-run.sh"]
    assert record.how == "heredoc" and record.complete and record.quoted
    assert record.content == '#!/usr/bin/env bash\nexec ./ethminer "$@"\n'
    assert tree.dirs == {"~/Downloads/ethminer": True}


@pytest.mark.parametrize("command", [
    "cat << 'EOF' > $DIR/h-stats.sh",
    "cat <<EOF >\"$DIR/h-stats.sh\"",
    "tee $DIR/h-stats.sh << 'EOF'",
    "sudo tee \"${DIR}/h-stats.sh\" > /dev/null <<'EOF'",
    "cat << 'EOF' | tee $DIR/h-stats.sh",
    "cat >$HOME/Downloads/ethminer/h-stats.sh <<-EOF",
])
def test_heredoc_forms_and_variables(command):
    tree = parse_file_tree(block(f"DIR=$HOME/Downloads/ethminer\n{command}\necho hi\nEOF"))
    assert list(tree.files) == ["~/Downloads/ethminer/h-stats.sh"]
    assert tree.files["~/Downloads/ethminer/h-stats.sh"].content == "echo hi\n"
    assert tree.variables["DIR"] == "~/Downloads/ethminer"


def test_a_positional_parameter_s_default_names_the_file():
    # run as the answer says ("bash apply_fix.sh"), $1 is unset and the default applies
    tree = parse_file_tree(block('TARGET="${1:-payment_processor.py}"\ncat > "$TARGET" <<\'EOF\'\nx = 1\nEOF'))
    assert list(tree.files) == ["payment_processor.py"]
    # with no default, the parameter stays as written: no file of that name is known
    bare = parse_file_tree(block('cat > "${1}" <<\'EOF\'\nx = 1\nEOF'))
    assert "payment_processor.py" not in bare.files


def test_here_string_is_not_a_heredoc():
    tree = parse_file_tree(block("cat <<< \"hello\" > out.txt\necho done"))
    assert tree.files == {}


def test_unterminated_heredoc_is_incomplete():
    text = block("cat > h-config.sh << 'EOF'\nexport A=1\n") + "\nThe rest of the answer.\n"
    record = parse_file_tree(text).files["h-config.sh"]
    assert record.how == "heredoc" and not record.complete
    assert record.content == "export A=1\n"


def test_heredoc_outside_a_fence_runs_to_its_delimiter():
    text = "Run:\n\ncat > h-manifest.conf << 'EOF'\nCUSTOM_NAME=ethminer\nEOF\n\nDone.\n"
    record = parse_file_tree(text).files["h-manifest.conf"]
    assert record.complete and record.content == "CUSTOM_NAME=ethminer\n"


def test_unquoted_heredoc_expands_like_the_shell():
    tree = parse_file_tree(block(
        "PORT=3333\n"
        "cat > h-config.sh << EOF\n"
        "export URL=\"$CUSTOM_URL\"\n"
        "export API=$PORT\n"
        "cd \\$(dirname \\$0)\n"
        "NOW=$(date)\n"
        "EOF"
    ))
    record = tree.files["h-config.sh"]
    assert not record.quoted
    assert record.content == 'export URL=""\nexport API=3333\ncd $(dirname $0)\nNOW=\n'
    assert "$CUSTOM_URL" in record.raw


def test_an_indented_delimiter_does_not_close_a_fenced_heredoc():
    tree = parse_file_tree(block(
        "cat > h-config.sh << 'EOF'\nexport A=1\n  EOF\ncat > h-run.sh << 'EOF'\nexec ./ethminer\nEOF"
    ))
    record = tree.files["h-config.sh"]
    assert record.complete and "cat > h-run.sh" in record.content
    assert "h-run.sh" not in tree.files


def test_dash_heredoc_strips_tabs_not_spaces():
    tabs = parse_file_tree(block("cat > h-run.sh <<- 'EOF'\n\texec ./ethminer\n\tEOF")).files["h-run.sh"]
    assert tabs.complete and tabs.content == "exec ./ethminer\n"
    spaces = parse_file_tree(block("cat > h-run.sh <<- 'EOF'\n    exec ./ethminer\n    EOF")).files["h-run.sh"]
    assert not spaces.complete


def test_an_inner_heredoc_with_the_same_delimiter_closes_the_outer_one():
    record = parse_file_tree(block(
        "cat > h-stats.sh << 'EOF'\nNOTE=$(cat << EOF\nhello\nEOF\n)\necho \"$NOTE\"\nEOF"
    )).files["h-stats.sh"]
    assert record.content == "NOTE=$(cat << EOF\nhello\n"


def test_an_unquoted_heredoc_records_what_bash_fills_in_from_outside():
    tree = parse_file_tree(block(
        "VERSION=0.19.0\n"
        "cat > h-manifest.conf << EOF\nCUSTOM_NAME=ethminer\nCUSTOM_VERSION=$VERSION\nEOF\n"
        "cat > h-config.sh << EOF\nexport URL=\"\\$CUSTOM_URL\"\nEOF\n"
        "cat > h-run.sh << EOF\nexport CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES\nSTART=$(date +%s)\nEOF"
    ))
    assert tree.files["h-manifest.conf"].outside == ()            # the answer's own variable
    assert tree.files["h-config.sh"].outside == ()                # escaped: written as $CUSTOM_URL
    assert tree.files["h-run.sh"].outside == ("$CUDA_VISIBLE_DEVICES", "$(date +%s)")


def test_nested_heredoc_with_another_delimiter_stays_in_the_file():
    record = parse_file_tree(block(
        "cat > h-stats.sh << 'EOF'\npython3 - << 'PY'\nprint(1)\nPY\nEOF"
    )).files["h-stats.sh"]
    assert record.complete and record.content == "python3 - << 'PY'\nprint(1)\nPY\n"


def test_echo_and_printf_redirects_create_and_append():
    tree = parse_file_tree(block(
        "echo 'CUSTOM_NAME=\"ethminer\"' > h-manifest.conf\n"
        "echo \"CUSTOM_VERSION=0.19\" >> h-manifest.conf\n"
        "printf 'A=1\\nB=2\\n' > vars.env\n"
        "./h-stats.sh > /dev/null 2>&1\n"
    ))
    assert tree.files["h-manifest.conf"].how == "redirect"
    assert tree.files["h-manifest.conf"].content == 'CUSTOM_NAME="ethminer"\nCUSTOM_VERSION=0.19\n'
    assert tree.files["vars.env"].content == "A=1\nB=2\n"
    assert set(tree.files) == {"h-manifest.conf", "vars.env"}


@pytest.mark.parametrize("adds", ["cat >> h-run.sh << 'EOF'", "tee -a h-run.sh > /dev/null << 'EOF'"])
def test_a_heredoc_appended_to_a_file_adds_to_what_was_written(adds):
    tree = parse_file_tree(block(
        "cat > h-run.sh << 'EOF'\nexec ethminer --api-port 3333\nEOF\n"
        f"{adds}\nexport CUDA_VISIBLE_DEVICES=0\nEOF\n"
    ))
    assert tree.files["h-run.sh"].content == "exec ethminer --api-port 3333\nexport CUDA_VISIBLE_DEVICES=0\n"
    # written anew with `>`, the file is only the new text
    tree = parse_file_tree(block(
        "cat > h-run.sh << 'EOF'\nexec ethminer --api-port 3333\nEOF\n"
        "cat > h-run.sh << 'EOF'\nexport CUDA_VISIBLE_DEVICES=0\nEOF\n"
    ))
    assert tree.files["h-run.sh"].content == "export CUDA_VISIBLE_DEVICES=0\n"


@pytest.mark.parametrize("caption,info", [
    ("### h-run.sh", "bash"),
    ("**`~/Downloads/ethminer/h-run.sh`**", "bash"),
    ("Create `h-run.sh`:", "sh"),
    ("File: h-run.sh", ""),
    ("", "bash h-run.sh"),
    ("", 'bash title="h-run.sh"'),
    ("", "h-run.sh"),
    # a bold label, however long the remark after it
    ("**3. `~/Downloads/ethminer/h-run.sh`** — this one has a lot of quotes, so it is easier to open "
     "`nano ~/Downloads/ethminer/h-run.sh` and paste the file as is:", "bash"),
])
def test_fenced_block_labelled_with_its_file_name(caption, info):
    text = "mkdir -p ~/Downloads/ethminer && cd ~/Downloads/ethminer\n\n"
    text += (caption + "\n" if caption else "") + block("#!/bin/bash\nexec ./ethminer", info)
    record = parse_file_tree(text).files["~/Downloads/ethminer/h-run.sh"]
    assert record.how == "fenced"
    assert record.content == "#!/bin/bash\nexec ./ethminer\n"


def test_a_captioned_file_may_name_itself_in_a_comment_under_its_shebang():
    body = "#!/usr/bin/env bash\n# ~/Downloads/ethminer/h-run.sh\nexec ./ethminer\n"
    text = "**`~/Downloads/ethminer/h-run.sh`**\n" + block(body.rstrip("\n"), "bash")
    assert parse_file_tree(text).files["~/Downloads/ethminer/h-run.sh"].content == body
    # commands on the file the caption names are not its text
    text = "**`~/Downloads/ethminer/h-run.sh`**, then:\n" + block("# make it runnable\nchmod +x h-run.sh", "bash")
    assert parse_file_tree(text).by_name("h-run.sh") is None


def test_sample_output_of_a_script_is_not_the_script():
    text = "### h-stats.sh\n" + block("echo '{\"hs\":[1]}'") + "\nExample output of h-stats.sh:\n" + block('{"hs":[1]}', "json")
    text += "\n`h-stats.sh`:\n" + block('{"hs":[2]}', "json")
    assert parse_file_tree(text).files["h-stats.sh"].content == "echo '{\"hs\":[1]}'\n"


def test_a_bold_label_over_an_example_labels_no_file():
    text = ("**3. `h-config.sh`.** This is where the flight sheet is translated: build the pool URI and export it, "
            "for example:\n" + block('export ETH_POOL="$scheme://$CUSTOM_TEMPLATE@$hp"'))
    assert parse_file_tree(text).files == {}


def test_a_long_sentence_naming_a_file_is_no_label():
    text = ("mkdir -p ~/Downloads/ethminer && cd ~/Downloads/ethminer\n\n"
            "The wrapper that HiveOS starts, `h-run.sh`, has to replace itself with the miner so that the agent can "
            "track the process, which means the script below is only the part that matters:\n"
            + block("exec ./ethminer"))
    assert parse_file_tree(text).files == {}


def test_unlabelled_block_and_prose_mention_create_nothing():
    text = ("The h-run.sh script should look roughly like this, which starts the miner\n"
            "with exec and passes the pool from the flight sheet to it.\n\n" + block("exec ./ethminer"))
    assert parse_file_tree(text).files == {}


def test_fenced_listing_of_a_heredoc_file_does_not_replace_it():
    text = block("cat > h-run.sh << 'EOF'\nexec ./ethminer\nEOF") + "\n### h-run.sh\n" + block("exec ./ethminer -v")
    record = parse_file_tree(text).files["h-run.sh"]
    assert record.how == "heredoc" and record.content == "exec ./ethminer\n"


def test_block_whose_commands_create_files_is_not_itself_a_file():
    text = "### h-config.sh\n" + block("cat > h-config.sh << 'EOF'\nexport A=1\nEOF")
    record = parse_file_tree(text).files["h-config.sh"]
    assert record.how == "heredoc" and record.content == "export A=1\n"


def test_text_copied_from_the_prompt_creates_no_file():
    prompt = "Example:\ncat > h-manifest.conf << 'EOF'\nCUSTOM_NAME=ethminer\nEOF\n"
    assert parse_file_tree(prompt, prompt).files == {}
    own = prompt + "\ncat > h-run.sh << 'EOF'\nexec ./ethminer\nEOF\n"
    assert list(parse_file_tree(own, prompt).files) == ["h-run.sh"]


def test_json_answer_commands_are_read():
    text = '{"commands": "mkdir -p ~/x\\ncat > ~/x/h-run.sh << \'EOF\'\\nexec ./ethminer\\nEOF"}'
    tree = parse_file_tree(text)
    assert tree.files["~/x/h-run.sh"].content == "exec ./ethminer\n"


def test_cd_to_the_last_mkdir_argument():
    tree = parse_file_tree(block("mkdir -p ~/Downloads/ethminer/ && cd $_\necho x > h-run.sh"))
    assert list(tree.files) == ["~/Downloads/ethminer/h-run.sh"]


def test_mkdir_without_p_and_relative_paths_without_cd():
    tree = parse_file_tree(block("mkdir ~/Downloads/ethminer\ncat > h-run.sh << 'EOF'\nexec ./ethminer\nEOF"))
    assert tree.dirs == {"~/Downloads/ethminer": False}
    assert list(tree.files) == ["h-run.sh"]


def test_json_and_python_blocks_are_not_shell():
    text = block('{"hs": [1], "note": "echo x > y.txt"}', "json") + block("open('a.sh','w')  # echo > b.sh", "python")
    assert parse_file_tree(text).files == {}


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_syntax_error_parses_without_running(tmp_path):
    marker = tmp_path / "ran"
    assert bash_syntax_error(f"touch {marker}\necho ok\n") is None
    assert not marker.exists()
    error = bash_syntax_error("if [ 1 ]; then\n  echo x\n")
    assert error and "syntax error" in error


@pytest.mark.parametrize("first", ["# ~/Downloads/ethminer/h-run.sh", "# File: h-run.sh", "# h-run.sh:"])
def test_block_whose_first_line_comment_names_the_file(first):
    text = "mkdir -p ~/Downloads/ethminer && cd ~/Downloads/ethminer\n\n"
    text += block(first + "\n#!/bin/bash\nexec ./ethminer", "bash")
    record = parse_file_tree(text).files["~/Downloads/ethminer/h-run.sh"]
    assert record.how == "fenced"
    assert record.content == "#!/bin/bash\nexec ./ethminer\n"   # the name line is a caption, not content


@pytest.mark.parametrize("first", ["# start the miner", "# h-run.sh output:", "#!/bin/bash"])
def test_an_ordinary_first_comment_names_no_file(first):
    assert parse_file_tree(block(first + "\nexec ./ethminer", "bash")).files == {}


# --- answers from the second validation round ---------------------------------------

def test_printf_resolves_escapes_in_the_format_only_and_repeats_it():
    tree = parse_file_tree(block("printf '%s\\n' 'echo \"a\\nb\"' 'exit 0' > run.sh\nprintf 'x=%s\\n' on > one.txt"))
    assert tree.files["run.sh"].content == 'echo "a\\nb"\nexit 0\n'
    assert tree.files["one.txt"].content == "x=on\n"


def test_labelled_block_text_runs_no_commands():
    tree = parse_file_tree(
        block("mkdir -p ~/w && cd ~/w") + "\n### h-run.sh\n\n" + block('cd "$(dirname "$0")"\nexec ./ethminer')
        + "\n### h-stats.sh\n\n" + block("echo '{}'")
    )
    assert list(tree.files) == ["~/w/h-run.sh", "~/w/h-stats.sh"]


def test_a_created_script_that_is_run_creates_its_files_in_a_child_shell():
    tree = parse_file_tree(block(
        "cat > /tmp/setup.sh << 'OUTER'\n"
        "D=$HOME/w\nmkdir -p \"$D\"\ncd \"$D\"\n"
        "cat > a.conf << 'EOF'\nA=1\nEOF\n"
        "OUTER\n"
        "bash /tmp/setup.sh\n"
        "cat > b.conf << 'EOF'\nB=1\nEOF\n"
    ))
    assert tree.files["~/w/a.conf"].content == "A=1\n"
    assert "b.conf" in tree.files            # bash ran it in a child: the cd did not stick
    assert tree.dirs == {"~/w": True}


def test_a_script_that_is_never_run_creates_only_itself():
    tree = parse_file_tree(block("cat > /tmp/setup.sh << 'OUTER'\ncat > a.conf << 'EOF'\nA=1\nEOF\nOUTER\n"))
    assert list(tree.files) == ["/tmp/setup.sh"]


def test_lines_to_put_into_a_file_are_not_the_file():
    run = "exec ./ethminer -U -P \"$ETHMINER_POOL\" --api-port 3333\n"
    answer = ("**~/Downloads/ethminer/h-run.sh**\n```bash\n#!/usr/bin/env bash\n" + run + "```\n\n"
              "If HiveOS passes cards in `CUDA_VISIBLE_DEVICES`, put this right before the `exec` line of `h-run.sh`:\n\n"
              "```bash\n[[ -n $CUDA_VISIBLE_DEVICES ]] && export CUDA_VISIBLE_DEVICES\n```\n")
    tree = parse_file_tree(answer)
    assert tree.files["~/Downloads/ethminer/h-run.sh"].content.endswith(run)
    # a caption that gives the whole file still names it
    whole = answer.replace("If HiveOS passes cards in `CUDA_VISIBLE_DEVICES`, put this right before the `exec` line of "
                           "`h-run.sh`:", "**~/Downloads/ethminer/h-run.sh**")
    assert "CUDA_VISIBLE_DEVICES" in parse_file_tree(whole).files["~/Downloads/ethminer/h-run.sh"].content



RUN_LINE = "```bash\nexec ./ethminer -U -P \"$POOL\" --api-port 3333\n```\n"


def test_a_block_captioned_as_one_line_of_a_file_is_not_the_file():
    assert parse_file_tree("**h-run.sh**:\n\n" + RUN_LINE).by_name("h-run.sh") is not None
    last = "**h-run.sh** – the last line should replace the shell with ethminer:\n\n" + RUN_LINE
    assert parse_file_tree(last).by_name("h-run.sh") is None


def test_blocks_the_answer_says_to_wrap_in_heredocs_are_lines_for_files_not_files():
    told = ("Here are the key lines; wrap each one in a `cat > FILE << 'EOF'` … `EOF` block and paste.\n\n"
            "**h-run.sh**:\n\n" + RUN_LINE)
    assert not parse_file_tree(told).files
    # a heredoc the answer runs itself still writes its file
    written = told + "\n```bash\ncat > h-stats.sh << 'EOF'\necho '{}'\nEOF\n```\n"
    assert [f.name for f in parse_file_tree(written).files.values()] == ["h-stats.sh"]

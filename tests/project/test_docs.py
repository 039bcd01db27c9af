"""The documentation held to the code: every code sample in ``docs/`` and ``README.md``
runs or is checked, the CLI reference is the live ``--help``, the README links every page
and ``mkdocs.yml``'s nav holds every page, and the reference tables list every field.

Fenced blocks, by language (any other language, or none, fails ``test_blocks_say_their_language``):

- ``python``: run with Sybil, in order, one namespace per page, in a fresh folder that
  holds ``articles/`` (the bundled sample articles). ``<!-- skip: next "reason" -->``
  before a block that needs what a test cannot have (a Ray cluster, an LLM endpoint, a
  running server) leaves it out; it is still compiled.
- ``console``: each ``$ citeseek ...`` line runs in-process in the same folder and must
  exit 0, or the code a last output line ``[exit N]`` names; the lines after it are its
  expected output (stdout), where ``...`` matches anything.
- ``bash``: shown, not run (servers, clusters, benchmarks of minutes); each command is
  checked: ``citeseek`` lines against the real parser, benchmark scripts and their
  options, ``make`` targets, ``pip`` extras, ``pytest`` paths, ``curl`` routes of the
  server, ``python -c`` code.
- ``json``: parsed.
- ``text``: not code (output samples, folder layouts, help text), skipped by design; the
  CLI reference's help text is compared with the live ``--help`` instead.

A page whose examples need the real embedding model says ``<!-- test: model -->`` and
runs in the ``model`` tier; on the other pages loading the model is an error, so the
fast tier stays fast.
"""

from __future__ import annotations

import argparse
import doctest
import importlib.util
import io
import json
import re
import shlex
import shutil
import unittest
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import fields
from pathlib import Path

import pytest
from sybil import Example, Sybil
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = sorted(DOCS.glob("*.md"))
SAMPLED = [README, *PAGES]
LANGUAGES = {"python", "console", "bash", "json", "text"}
TIER = re.compile(r"^<!-- test: (\S+) -->$", re.M)
FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")
# Programs a bash block may show that no test can check (other projects' servers).
EXTERNAL = {"ollama", "llama-server"}


def fenced_blocks(text: str) -> list[tuple[int, str, str]]:
    """(line, info string, body) of every fenced block in a Markdown text."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence, body = opening.group(1), []
        j = i + 1
        while j < len(lines):
            closing = FENCE.match(lines[j])
            if closing and closing.group(1).startswith(fence) and not closing.group(2).strip():
                break
            body.append(lines[j])
            j += 1
        blocks.append((i + 1, opening.group(2).strip(), "\n".join(body)))
        i = j + 1
    return blocks


def page_id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def tier(path: Path) -> str | None:
    found = TIER.findall(path.read_text(encoding="utf-8"))
    return found[0] if found else None


# -- console blocks: run ---------------------------------------------------------------

def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"


def run_console(example: Example) -> str | None:
    from citeseek.cli import main

    commands: list[list[str]] = []  # [command, expected output lines...]
    for line in str(example.parsed).splitlines():
        if commands and commands[-1][0].endswith("\\") and len(commands[-1]) == 1:
            commands[-1][0] = commands[-1][0][:-1] + " " + line.strip()
        elif line.startswith("$ "):
            commands.append([line[2:]])
        elif commands:
            commands[-1].append(line)
        else:
            return f"output before any `$ ` command: {line!r}"
    for command, *expected in commands:
        argv = shlex.split(command)
        if argv[0] != "citeseek":
            return f"a console block runs citeseek commands only, not {command!r}"
        status = re.fullmatch(r"\[exit (\d+)\]", expected[-1].strip()) if expected else None
        if status:
            expected = expected[:-1]
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(argv[1:])
            except SystemExit as exc:  # --help and --version exit from argparse
                code = exc.code or 0
        if code != (int(status.group(1)) if status else 0):
            return f"`{command}` exited {code}:\n{err.getvalue()}{out.getvalue()}"
        want = _normal("\n".join(expected)) if any(s.strip() for s in expected) else None
        got = _normal(out.getvalue())
        if want and not doctest.OutputChecker().check_output(want, got, doctest.ELLIPSIS):
            return f"`{command}` printed:\n{got}\nwhere the page shows:\n{want}"
    return None


# -- bash blocks: checked --------------------------------------------------------------

def _makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([\w-]+):", text, re.M))


def _extras() -> set[str]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = text[text.index("[project.optional-dependencies]"):]
    section = section[:section.index("\n[", 1)]
    return set(re.findall(r"^([\w-]+) = \[", section, re.M))


def _routes() -> list[re.Pattern[str]]:
    app = (ROOT / "src" / "citeseek" / "server" / "app.py").read_text(encoding="utf-8")
    routes = []
    for path in re.findall(r"@app\.(?:get|post)\(\"([^\"]+)\"", app):
        pattern = re.sub(r"\\\{\w+:path\\\}", ".+", re.escape(path))
        routes.append(re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", pattern) + "$"))
    return routes


def check_cli(args: list[str]) -> str | None:
    from citeseek.cli import make_parser
    from citeseek.cli.parser import ArgumentError

    try:
        with redirect_stdout(io.StringIO()):
            make_parser().parse_args(args)
    except ArgumentError as exc:
        return f"citeseek {' '.join(args)}: {exc}"
    except SystemExit as exc:  # --help, --version
        if exc.code:
            return f"citeseek {' '.join(args)}: exit {exc.code}"
    return None


def check_script(args: list[str]) -> str | None:
    script = ROOT / args[0]
    if not script.is_file():
        return f"no script {args[0]}"
    accepted = set(re.findall(r"add_argument\(\s*\"(--[\w-]+)\"", script.read_text("utf-8")))
    unknown = [a.split("=")[0] for a in args[1:]
               if a.startswith("--") and a.split("=")[0] not in accepted]
    return f"{args[0]} takes no {', '.join(unknown)}" if unknown else None


def check_python(args: list[str]) -> str | None:
    while len(args) > 1 and args[0] == "-X":  # interpreter options
        args = args[2:]
    if args[:2] == ["-m", "citeseek"]:
        return check_cli(args[2:])
    if args[:2] == ["-m", "pytest"]:
        rest, paths = args[2:], []
        while rest:
            if rest[0] in ("-m", "-k", "-p"):  # options with a value
                rest = rest[2:]
                continue
            if not rest[0].startswith("-"):
                paths.append(rest[0].split("::")[0])
            rest = rest[1:]
        missing = [p for p in paths if not (ROOT / p).exists()]
        return f"pytest: no {', '.join(missing)}" if missing else None
    if args[:1] == ["-c"]:
        try:
            compile(args[1], "<python -c>", "exec")
        except SyntaxError as exc:
            return f"python -c: {exc}"
        return None
    if args and args[0].endswith(".py"):
        return check_script(args)
    return f"python {' '.join(args)}: not a form these checks know"


def check_pip(args: list[str]) -> str | None:
    if args[:1] != ["install"]:
        return f"pip {' '.join(args)}: only pip install is shown"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for arg in args[1:]:
        named = re.fullmatch(r"(?:citeseek|\.)\[([\w,-]+)\]", arg)
        if named:
            unknown = set(named.group(1).split(",")) - _extras()
            if unknown:
                return f"pip install {arg}: no extra {', '.join(sorted(unknown))}"
        elif arg.startswith("torch=="):
            if f'"{arg}"' not in makefile:
                return f"pip install {arg}: the Makefile pins another torch"
        elif arg not in ("-e", "."):
            return f"pip install {arg}: not citeseek, its extras or its torch"
    return None


def check_command(argv: list[str]) -> str | None:
    while argv and re.match(r"[A-Z_][A-Z0-9_]*=", argv[0]):  # VAR=value prefixes
        argv = argv[1:]
    name, args = Path(argv[0]).name, argv[1:]
    if name == "citeseek":
        return check_cli(args)
    if name in ("python", "python3"):
        return check_python(args)
    if name == "make":
        unknown = set(args) - _makefile_targets()
        return f"make: no target {', '.join(sorted(unknown))}" if unknown else None
    if name == "pip":
        return check_pip(args)
    if name == "curl":
        urls = [a for a in args if a.startswith("http")]
        paths = [re.sub(r"^https?://[^/]+", "", u).split("?")[0] for u in urls]
        unknown = [p for p in paths if not any(r.match(p) for r in _routes())]
        return f"curl: the server has no route {', '.join(unknown)}" if unknown or \
            not urls else None
    if name in EXTERNAL:
        return None
    return f"{name}: a command these checks do not know (show it in a text block?)"


def shell_commands(source: str) -> list[list[str]]:
    """The commands of a shell block: continuations joined, comments dropped, and
    ``&&``, ``||``, ``|`` and ``;`` splitting a line into several."""
    commands: list[list[str]] = []
    for line in source.replace("\\\n", " ").splitlines():
        current: list[str] = []
        for token in shlex.split(line, comments=True):
            if token in ("&&", "||", "|", ";"):
                commands.append(current)
                current = []
            else:
                current.append(token)
        if current:
            commands.append(current)
    return [c for c in commands if c]


def check_bash(example: Example) -> str | None:
    problems = [p for p in map(check_command, shell_commands(str(example.parsed))) if p]
    return "\n".join(problems) or None


def check_json(example: Example) -> str | None:
    json.loads(str(example.parsed))
    return None


SYBIL = Sybil(parsers=[
    PythonCodeBlockParser(),
    CodeBlockParser("console", run_console),
    CodeBlockParser("bash", check_bash),
    CodeBlockParser("json", check_json),
    SkipParser(),
])


def _forbid_the_model(self: object) -> None:
    raise RuntimeError("this page's examples load the embedding model: use "
                       "model=\"hashing\", or mark the page <!-- test: model -->")


@pytest.mark.parametrize("page", [
    pytest.param(p, id=page_id(p), marks=[pytest.mark.model] if tier(p) == "model" else [])
    for p in SAMPLED])
def test_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      request: pytest.FixtureRequest) -> None:
    from citeseek.demo import sample_dir
    from citeseek.embed.sentence_transformer import SentenceTransformerEmbedder

    shutil.copytree(sample_dir(), tmp_path / "articles")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CITESEEK_STORE", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if tier(page) == "model":
        # The session's real-model collection of the same articles, as a warm cache: a
        # page's build of articles/ into embeddings/articles then reads and splits the
        # files (their folder is new to it) but finds every vector already embedded.
        warm = request.getfixturevalue("real_sample_collection")
        shutil.copytree(warm.root, tmp_path / "embeddings" / "articles")
    else:
        monkeypatch.setattr(SentenceTransformerEmbedder, "_load", _forbid_the_model)
    document = SYBIL.parse(page)
    blocks = ran = 0
    for example in document:
        is_block = isinstance(example.parsed, str)  # not a skip directive
        blocks += is_block
        try:
            example.evaluate()
        except unittest.SkipTest:
            continue
        ran += is_block
    shown = [b for b in fenced_blocks(page.read_text(encoding="utf-8")) if b[1] != "text"]
    assert blocks == len(shown), "a code block was not picked up"
    assert ran or not shown, "no example of this page ran"


# -- what the blocks are -----------------------------------------------------------------

@pytest.mark.parametrize("page", SAMPLED, ids=page_id)
def test_blocks_say_their_language(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    unknown = [(line, info) for line, info, _ in fenced_blocks(text) if info not in LANGUAGES]
    assert unknown == []
    assert set(TIER.findall(text)) <= {"model"}


@pytest.mark.parametrize("page", SAMPLED, ids=page_id)
def test_python_blocks_compile_skipped_or_not(page: Path) -> None:
    for line, info, body in fenced_blocks(page.read_text(encoding="utf-8")):
        if info == "python":
            compile(body, f"{page.name}:{line}", "exec")


@pytest.mark.parametrize("page", SAMPLED, ids=page_id)
def test_every_skip_gives_its_reason(page: Path) -> None:
    skips = re.findall(r"^<!--\s*skip:\s*(.*?)\s*-->$", page.read_text(encoding="utf-8"),
                       re.M)
    assert all(re.fullmatch(r"next \"[^\"]{10,}\"", s) for s in skips), skips


def test_the_checks_catch_wrong_commands() -> None:
    assert check_command(["citeseek", "search", "q", "--mode", "fuzzy"])
    assert check_command(["citeseek", "frobnicate"])
    assert check_command(["python", "benchmarks/bench_nothing.py"])
    assert check_command(["python", "benchmarks/bench_serve.py", "--no-such-option"])
    assert check_command(["make", "no-such-target"])
    assert check_command(["pip", "install", "citeseek[nothing]"])
    assert check_command(["curl", "http://127.0.0.1:8000/nowhere"])
    assert check_command(["rm", "-rf", "/"])
    assert check_command(["python", "-c", "print("])
    assert check_command(["citeseek", "search", "q", "--mode", "dense", "-k", "3"]) is None
    assert check_command(["curl", "http://127.0.0.1:8000/documents/002_x.txt"]) is None
    assert shell_commands("a b && c \\\n  d # note\n") == [["a", "b"], ["c", "d"]]


def test_console_blocks_hold_output_and_exit_codes(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    monkeypatch.chdir(tmp_path)
    error = ('{"error": "no collection at x (build one with citeseek index)", '
             '"type": "CollectionNotFound"}')

    def block(text: str) -> Example:
        return SimpleNamespace(parsed=text)  # type: ignore[return-value]

    assert run_console(block(f"$ citeseek info --store x --json\n{error}\n[exit 1]")) is None
    assert run_console(block("$ citeseek info --store x --json\n...\n[exit 1]")) is None
    assert run_console(block(f"$ citeseek info --store x --json\n{error}"))  # exit 1, not 0
    assert run_console(block('$ citeseek info --store x --json\n{"error": "no"}\n[exit 1]'))
    assert run_console(block("$ ls"))
    assert run_console(block("$ citeseek --version\ncitesee ...")) and \
        run_console(block("$ citeseek --version\ncitesee...")) is None


# -- the CLI reference -------------------------------------------------------------------

def _generator():
    spec = importlib.util.spec_from_file_location("cli_reference", DOCS / "cli_reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_the_live_help(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")  # the page must not depend on the terminal
    page = (DOCS / "cli-reference.md").read_text(encoding="utf-8")
    assert page == _generator().render(), "run `make cli-reference`"


def test_cli_reference_holds_every_command() -> None:
    from citeseek.cli import make_parser

    sub = next(a for a in make_parser()._actions if isinstance(a, argparse._SubParsersAction))
    page = (DOCS / "cli-reference.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## `(.+)`$", page, re.M)
    assert headings == ["citeseek", *(f"citeseek {name}" for name in sub.choices)]


# -- the site's shape --------------------------------------------------------------------

def test_readme_is_a_front_page_that_links_every_page() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    linked = set(re.findall(r"\]\((docs/[\w-]+\.md)(?:#[\w-]+)?\)", text))
    assert {page_id(p) for p in PAGES} - linked == set()
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert (ROOT / target).exists(), target


def test_nav_holds_every_page() -> None:
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))

    def walk(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, list):
            return [page for item in node for page in walk(item)]
        if isinstance(node, dict):
            return [page for value in node.values() for page in walk(value)]
        return []

    nav = walk(config["nav"])
    assert sorted(nav) == sorted(p.name for p in PAGES)
    assert config["theme"]["font"] is False  # no web fonts: the site reads offline


def test_api_reference_covers_the_public_names() -> None:
    import citeseek

    page = (DOCS / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^::: citeseek\.(\w+)", page, re.M))
    assert set(citeseek.__all__) - {"CiteseekError"} <= documented
    assert "::: citeseek.errors" in page


# -- reference tables against the code ---------------------------------------------------

def table_names(page: str, heading: str) -> list[str]:
    """The names in backticks in the first column of the table under ``heading``."""
    text = (DOCS / page).read_text(encoding="utf-8") + "\n\n"
    section = text[text.index(f"\n{heading}\n"):]
    rows = re.findall(r"^\| (.+?) \|", section[:section.index("\n\n", section.index("| "))],
                      re.M)
    return [name for cell in rows[2:] for name in re.findall(r"`(\w+)`", cell)]


def test_field_tables_list_every_field() -> None:
    from citeseek import Answer, AnswerSentence, Hit, Settings

    assert sorted(table_names("python-api.md", "### Hit fields")) == \
        sorted(f.name for f in fields(Hit))
    assert sorted(table_names("python-api.md", "### Answer fields")) == \
        sorted(f.name for f in fields(Answer))
    assert sorted(table_names("python-api.md", "### AnswerSentence fields")) == \
        sorted(f.name for f in fields(AnswerSentence))
    assert table_names("python-api.md", "## Build settings") == \
        [f.name for f in fields(Settings)]


def test_option_tables_list_every_option() -> None:
    import inspect

    from citeseek import Collection, build

    search = inspect.signature(Collection.search).parameters
    assert table_names("python-api.md", "### Search options") == \
        [name for name in search if name not in ("self", "query")]
    build_args = [name for name in inspect.signature(build).parameters
                  if name not in ("model", "settings")]
    assert sorted(table_names("python-api.md", "Other arguments of `build`:")) == \
        sorted(build_args)


def test_error_table_lists_every_error() -> None:
    from citeseek import errors

    classes = {name for name, value in vars(errors).items()
               if isinstance(value, type) and issubclass(value, errors.CiteseekError)}
    assert set(table_names("python-api.md", "## Errors")) == classes - {"CiteseekError"}

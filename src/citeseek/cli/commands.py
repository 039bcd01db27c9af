"""What each command does: open the collection (or ask a server), call the Python API,
print text or ``--json``. The parser that maps options to these is ``parser.py``."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from ..embed.base import STATIC_MODEL_ID
from ..errors import UsageError
from ..terminal import printable, printable_json

STORE_ENV = "CITESEEK_STORE"


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.json:
        print(printable_json(json.dumps(data, ensure_ascii=False, indent=2, default=str)))
    else:
        print(printable(text))


def _store(args: argparse.Namespace) -> str:
    """``--store``, else ``CITESEEK_STORE``, else the one collection in ``embeddings/``
    (where ``citeseek.build`` puts collections when not told)."""
    if args.store or os.environ.get(STORE_ENV):
        return str(args.store or os.environ[STORE_ENV])
    from ..config import STORES

    found = sorted(str(p) for p in STORES.glob("*") if (p / "CURRENT").is_file())
    if len(found) == 1:
        return found[0]
    where = f"several collections in {STORES}/ ({', '.join(found)})" if found else \
        f"no collection in {STORES}/"
    raise UsageError(f"--store is needed: {where}, and {STORE_ENV} is not set")


def _open(args: argparse.Namespace, **kwargs: Any) -> Any:
    """The collection ``--store`` names, held at its live generation for the command."""
    from ..collection import open as open_collection

    return open_collection(_store(args), **kwargs).pinned()


def _filters(args: argparse.Namespace, col: Any) -> dict[str, Any]:
    """The filter options as ``col``'s methods take them, document ids resolved."""
    from ..search.filters import Filters

    return Filters.from_request(source=args.source, date_from=args.date_from,
                                date_to=args.date_to, doc_id=args.doc_id,
                                resolve=col.resolve_doc_id).options()


def _remote(args: argparse.Namespace, path: str, text: str) -> Any:
    """Ask the server at ``--server``: the options are the request's fields, by the same
    names, and the server translates them as ``_filters`` does here."""
    if args.store:
        raise UsageError("give --store or --server, not both")
    from ..server.client import Client

    return Client(args.server).request(path, {
        "query" if path == "/search" else "question": text, "k": args.k, "mode": args.mode,
        "source": args.source, "date_from": args.date_from, "date_to": args.date_to,
        "doc_id": args.doc_id, "per_doc": getattr(args, "per_doc", None)})


def cmd_index(args: argparse.Namespace) -> int:
    from ..collection import build
    from ..engines.dispatch import CLI_NAMES, check_engine

    overrides = {k: v for k, v in {
        "chunk_tokens": args.chunk_tokens, "overlap_tokens": args.overlap_tokens,
        "index": args.index_type, "batch_size": args.batch_size, "backend": args.backend,
        "embed_title": False if args.no_title else None,
    }.items() if v is not None}
    check_engine(args.engine, address=args.address, workers=args.workers, names=CLI_NAMES)
    store = args.store or os.environ.get(STORE_ENV)
    col = build(args.sources, store, model=args.model, strict=args.strict,
                progress=not args.json and not args.quiet, engine=args.engine,
                address=args.address, workers=args.workers, follow_links=args.follow_links,
                **overrides)
    report = col.last_build
    assert report is not None
    _emit(args, report.to_dict(), str(report))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from ..search.hits import HitList

    if args.server:
        hits = HitList.from_dict(_remote(args, "/search", args.query), query=args.query,
                                 mode=args.mode)
    else:
        col = _open(args, model=args.model)
        hits = col.search(args.query, k=args.k, mode=args.mode, per_doc=args.per_doc,
                          **_filters(args, col))
    _emit(args, hits.to_dict(), str(hits))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from ..answer.result import Answer

    written: list[str] = []

    def stream(piece: str) -> None:  # the model's reply, as it arrives
        if not written:
            print(printable(f"Q: {args.question}\nA: "), end="", flush=True)
        written.append(piece)
        print(printable(piece), end="", flush=True)

    llm = {}
    if args.llm or args.llm_model:
        if args.server:
            raise UsageError("--llm writes the answer here: it does not go with --server")
        llm = {"llm": args.llm, "llm_model": args.llm_model,
               "on_text": None if args.json else stream}
    if args.server:
        answer = Answer.from_dict(_remote(args, "/ask", args.question))
    else:
        col = _open(args, model=args.model)
        answer = col.ask(args.question, k=args.k, mode=args.mode, **_filters(args, col),
                         **llm)
    if written:  # the answer was shown as it streamed: the checks and sources follow
        print()
        text = answer.report(answer_text=False) if answer.generated else str(answer)
    else:
        text = str(answer)
    _emit(args, answer.to_dict(), text)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    col = _open(args)
    data = col.document(col.resolve_doc_id(args.doc_id)).to_dict()
    head = "\n".join(f"{k}: {v}" for k, v in data.items() if k != "text" and v)
    _emit(args, data, f"{head}\n\n{data['text']}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    docs = _open(args).documents()
    lines = [f"{d['doc_id']}  {d['date'] or '-':<10}  {d['chunks']:>4} passages"
             + (f"  {d['pages']:>4} pages" if d.get("pages") is not None else "")
             + f"  {d['title'] or '(no title)'}  [{d['source']}]" for d in docs]
    _emit(args, docs, "\n".join(lines) or "no documents")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ..server.limits import ServerLimits
    from ..server.run import serve

    if args.engine != "ray" and (args.replicas or args.address):
        raise UsageError("--replicas and --address need --engine ray")
    given = {"max_body": args.max_body, "header_timeout": args.header_timeout,
             "body_timeout": args.body_timeout}
    limits = ServerLimits(**{k: v for k, v in given.items() if v is not None})
    serve(_store(args), host=args.host, port=args.port, engine=args.engine,
          replicas=args.replicas or 1, address=args.address, limits=limits)
    return 0


def _extra(name: str, module: str) -> None:
    """A ``UsageError`` naming the extra to install when ``module`` is missing."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise UsageError(f"this command needs the {name} extra: pip install "
                         f"'citeseek[{name}]'")


def cmd_mcp(args: argparse.Namespace) -> int:
    _extra("mcp", "mcp")
    from ..integrations.mcp_server import serve_mcp

    if not args.http and (args.host or args.port):
        raise UsageError("--host and --port go with --http")
    serve_mcp(_store(args), transport="http" if args.http else "stdio",
              host=args.host or "127.0.0.1", port=args.port or 8765)
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    _extra("watch", "watchfiles")
    from ..integrations.watch import watch

    watch(args.sources, args.store or os.environ.get(STORE_ENV), model=args.model,
          debounce=args.debounce, strict=args.strict, follow_links=args.follow_links,
          as_json=args.json)
    return 0


def _index_summary(index: dict[str, Any]) -> str:
    """``HNSW32,Flat (auto; efSearch=48, recall@10 0.969 on 200 own vectors)``."""
    how = [index.get("chosen", "auto")]
    if index.get("exact"):
        how.append("exact")
    else:
        how.extend(f"{k}={v}" for k, v in (index.get("search") or {}).items())
        if index.get("recall_at_10") is not None:
            how.append(f"recall@10 {index['recall_at_10']:.3f} on "
                       f"{index.get('recall_queries', 0)} own vectors")
    return f"{index['factory']} ({', '.join(how)})"


def _tier(model_id: str) -> str:
    """"static tier, " for the static tier's model (docs/speed.md), else nothing."""
    return "static tier, " if model_id == STATIC_MODEL_ID else ""


def cmd_check(args: argparse.Namespace) -> int:
    """Exit 0 when the live generation is good, 1 when it is not (the report says which
    generations are good, and the way back)."""
    from ..storage.recovery import check

    result = check(_store(args))
    _emit(args, result.to_dict(), str(result))
    return 0 if result.ok else 1


def cmd_rollback(args: argparse.Namespace) -> int:
    from ..storage.recovery import rollback

    done = rollback(_store(args), to=args.to)
    _emit(args, done.to_dict(), str(done))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    info = _open(args).info()
    c = info["counts"]
    text = (f"{info['store']} ({info['generation']}, built {info['created']})\n"
            f"  model {info['model']['id']} ({_tier(info['model']['id'])}dimension "
            f"{info['model']['dimension']})\n"
            f"  {c['documents']} documents, {c['chunks']} passages, {c['files']} files\n"
            f"  index {_index_summary(info['index'])}")
    _emit(args, info, text)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ..collection import build
    from ..demo import SAMPLE_QUESTIONS, sample_dir, sample_formats_dir

    col = build([sample_dir(), sample_formats_dir()], args.store, progress=not args.json)
    out: dict[str, Any] = {"build": col.last_build.to_dict() if col.last_build else None,
                           "questions": []}
    lines = [str(col.last_build), ""]
    for question in SAMPLE_QUESTIONS:
        answer = col.ask(question, k=args.k)
        out["questions"].append(answer.to_dict())
        lines += [str(answer), ""]
    _emit(args, out, "\n".join(lines))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from ..evaluation import evaluate_beir

    modes = args.mode or ["keyword", "dense", "hybrid"]
    results = evaluate_beir(args.beir_dir, store=args.store, modes=modes, split=args.split,
                            model=args.model, progress=not args.json)
    data = {"dataset": str(args.beir_dir), "split": args.split,
            "results": [r.to_dict() for r in results]}
    _emit(args, data, "\n".join(str(r) for r in results))
    return 0


def cmd_eval_qa(args: argparse.Namespace) -> int:
    from ..evaluation import evaluate_qa

    result = evaluate_qa(args.source, questions=args.questions, store=args.store,
                         model=args.model, k=args.k, mode=args.mode, limit=args.limit,
                         progress=not args.json)
    _emit(args, result.to_dict(rows=args.rows), str(result))
    return 0

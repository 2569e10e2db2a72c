"""Serving ``/metrics``: prometheus_client's WSGI app, with a fast path for the agent's
own families.

prometheus_client renders a scrape by making one ``Sample`` per series and formatting each
(about 6 us a series here: 60 ms for 10k series, over the 50 ms a scrape may take). The
agent's families are written here instead, in the same bytes prometheus_client writes
(tests hold them equal), in the format its ``choose_encoder`` picks from the scraper's
``Accept``: the Prometheus text format, or OpenMetrics (which Prometheus asks for first).
Label strings are made once per label set and kept. The process metrics are rendered by
prometheus_client and appended; a ``name[]`` filter goes to prometheus_client whole.
Responses are gzipped when the scraper accepts it, as prometheus_client does.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable
from typing import Any

from .collector import Family, MapCollector

__all__ = ["render_text", "make_app"]


def _escape_value(v: str) -> str:
    return v.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


class _LabelText:
    """``{a="x",b="y"}`` per (names, values), names sorted as prometheus_client sorts
    them; made once per label set."""

    def __init__(self) -> None:
        self._cache: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}

    def __call__(self, names: tuple[str, ...], values: tuple[str, ...]) -> str:
        key = (names, values)
        text = self._cache.get(key)
        if text is None:
            if len(self._cache) > 1 << 18:
                self._cache.clear()
            pairs = sorted(zip(names, values))
            text = "{" + ",".join(f'{k}="{_escape_value(v)}"' for k, v in pairs) + "}" \
                if pairs else ""
            self._cache[key] = text
        return text


_LABELS = _LabelText()


def render_text(snapshot: Iterable[Family], *, openmetrics: bool = False) -> str:
    """``snapshot`` in the Prometheus text format (0.0.4), as ``generate_latest`` writes
    it, or (``openmetrics``) as ``openmetrics.exposition.generate_latest`` does, without
    its closing ``# EOF``."""
    from prometheus_client.utils import floatToGoString  # noqa: PLC0415

    number = floatToGoString
    out: list[str] = []
    add = out.append
    labels = _LABELS
    for fam in snapshot:
        name = fam.name + "_total" if fam.kind == "counter" else fam.name
        if openmetrics:
            doc = _escape_value(fam.help)
            add(f"# HELP {fam.name} {doc}\n# TYPE {fam.name} {fam.kind}\n")
        else:
            doc = fam.help.replace("\\", r"\\").replace("\n", r"\n")
            add(f"# HELP {name} {doc}\n# TYPE {name} {fam.kind}\n")
        names = tuple(fam.label_names)
        if fam.kind != "histogram":
            for values, value in fam.rows:
                add(f"{name}{labels(names, values)} {number(value)}\n")
            continue
        bucket_names = (*names, "le")
        bucket, count_name, sum_name = name + "_bucket", name + "_count", name + "_sum"
        for values, buckets, estimate, _count in fam.rows:
            for le, cumulative in buckets:
                add(f"{bucket}{labels(bucket_names, (*values, le))} {number(cumulative)}\n")
            text = labels(names, values)
            add(f"{count_name}{text} {number(buckets[-1][1])}\n"
                f"{sum_name}{text} {number(estimate)}\n")
    return "".join(out)


def make_app(registry: Any, collector: MapCollector, others: Any) -> Callable[..., Any]:
    """The WSGI app of ``/metrics``: ``registry`` (all collectors) through prometheus_client
    for OpenMetrics and filtered requests; for plain text, ``collector`` rendered here and
    ``others`` (the rest: process metrics) by prometheus_client."""
    from prometheus_client.exposition import choose_encoder, make_wsgi_app  # noqa: PLC0415

    library = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "/") == "/favicon.ico" or environ.get("QUERY_STRING"):
            return list(library(environ, start_response))
        encoder, content_type = choose_encoder(environ.get("HTTP_ACCEPT", ""))
        openmetrics = content_type.startswith("application/openmetrics-text")
        body = render_text(collector.snapshot(), openmetrics=openmetrics).encode() + \
            encoder(others)
        headers = [("Content-Type", content_type)]
        if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
            body = gzip.compress(body, compresslevel=1)
            headers.append(("Content-Encoding", "gzip"))
        start_response("200 OK", headers)
        return [body]

    return app

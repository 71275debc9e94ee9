"""SVG elements as text, every attribute and text XML-escaped (xml.sax.saxutils)."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr


def attrs(**values: object) -> str:
    """` name="value"` pairs; a trailing underscore is dropped (class_), underscores become dashes (data_step)."""
    out = []
    for key, value in values.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        out.append(f" {name}={quoteattr(str(value))}")
    return "".join(out)


def element(tag: str, content: str | None = None, **values: object) -> str:
    if content is None:
        return f"<{tag}{attrs(**values)}/>"
    return f"<{tag}{attrs(**values)}>{content}</{tag}>"


def text(x: float, y: float, content: str, **values: object) -> str:
    return element("text", escape(content), x=f"{x:.1f}", y=f"{y:.1f}", **values)


def title(content: str) -> str:
    return element("title", escape(content))

"""``{% person_fragment %}...{% endperson_fragment %}``: a block cached per person (you.fragments).

The view puts ``fragment_key`` (or None: do not cache) and, on a hit, ``fragment_html`` in the
context; the block then prints the cached HTML without rendering its contents, or renders them
and stores the result. Without a key the block renders as if the tag were not there.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from memportal.you.fragments import fragment_set

register = template.Library()


class PersonFragmentNode(template.Node):
    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist

    def render(self, context: template.Context) -> str:
        cached = context.get("fragment_html")
        if cached is not None:
            return mark_safe(cached)  # noqa: S308 - HTML this block rendered itself, autoescaped then
        html = self.nodelist.render(context)
        key = context.get("fragment_key")
        if key:
            fragment_set(key, html)
        return html


@register.tag("person_fragment")
def person_fragment(parser: template.base.Parser, token: template.base.Token) -> PersonFragmentNode:
    nodelist = parser.parse(("endperson_fragment",))
    parser.delete_first_token()
    return PersonFragmentNode(nodelist)

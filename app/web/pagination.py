"""GOV.UK pagination for a listing page that shows one page of an API list at a time."""
from __future__ import annotations

from urllib.parse import urlencode

# A page number's upper bound: with the API's largest page, its offset stays within Paging's maximum.
MAX_PAGE = 20_000


def offset_of(page: int, per_page: int) -> int:
    return (page - 1) * per_page


def pagination(path: str, page: int, total: int, per_page: int, query: dict[str, str] | None = None) -> dict | None:
    """The govukPagination parameters, or None when every row fits on one page.

    Lists the first, last, current and adjacent pages, with ellipses between (the design system's advice).
    """
    last = max(1, -(-total // per_page))
    if last == 1:
        return None

    def href(number: int) -> str:
        return f"{path}?{urlencode({**(query or {}), 'page': number})}"

    shown = sorted({1, last, page - 1, page, page + 1} & set(range(1, last + 1)))
    items: list[dict] = []
    for before, number in zip([None] + shown, shown):
        if before is not None and number - before > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": href(number), "current": number == page})
    params: dict = {"items": items}
    if page > 1:
        params["previous"] = {"href": href(min(page, last + 1) - 1)}
    if page < last:
        params["next"] = {"href": href(page + 1)}
    return params

"""Progress bars for long work (index builds, large uploads), via tqdm.auto:
a widget in a notebook, text in a terminal, nothing when disabled.

>>> with progress_bar(total=2, desc="demo", enabled=False) as bar:
...     bar.update(2)
"""

from __future__ import annotations

__all__ = ["progress_bar"]


class _NoBar:
    def update(self, n=1):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def progress_bar(total: int, desc: str, enabled: bool = True):
    """A tqdm.auto bar, or a silent stand-in when ``enabled`` is False."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)

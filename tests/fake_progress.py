"""A stand-in for ``helpers.core.progress.progress_bar`` that records what each bar was asked to show and count."""

from __future__ import annotations


class CountingBar:
    def __init__(self, **kwargs):
        self.kwargs, self.count = kwargs, 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n=1):
        self.count += n


def record_bars(monkeypatch, module) -> list[CountingBar]:
    """Replace ``module.progress_bar``; the returned list fills with every bar made, in order."""
    bars: list[CountingBar] = []

    def make(**kwargs) -> CountingBar:
        bars.append(CountingBar(**kwargs))
        return bars[-1]

    monkeypatch.setattr(module, "progress_bar", make)
    return bars

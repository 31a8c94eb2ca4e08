"""What an operator watches: Prometheus metrics, JSON logs with request ids, optional tracing."""

from __future__ import annotations

__all__: list[str] = []

"""Transactions that say which of their items failed, by name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from shopdesk.models import SessionModel

# TransactWrite sends its items grouped by kind, in this order; cancellation reasons follow it.
_KIND_ORDER = ("check", "delete", "put", "update")


def connection() -> Connection:
    """The one connection every model uses, so transactions add no client of their own."""
    connection: Connection = SessionModel._get_connection().connection
    return connection


class TransactionFailed(Exception):
    def __init__(self, failed: dict[str, str], cause: TransactWriteError) -> None:
        super().__init__(f"transaction cancelled: {failed}")
        self.failed = failed  # label → DynamoDB reason code
        self.cause = cause

    def failed_on(self, label: str) -> bool:
        return self.failed.get(label) == "ConditionalCheckFailed"


class Tx:
    """A TransactWrite whose items carry labels, so a cancellation names what failed."""

    def __init__(self, write: TransactWrite) -> None:
        self._write = write
        self._labels: dict[str, list[str]] = {kind: [] for kind in _KIND_ORDER}

    def check(self, label: str, model_cls: Any, hash_key: str, range_key: str, condition: Condition) -> None:
        self._labels["check"].append(label)
        self._write.condition_check(model_cls, hash_key, range_key, condition=condition)

    def put(self, label: str, model: Any, condition: Condition | None = None) -> None:
        self._labels["put"].append(label)
        self._write.save(model, condition=condition)

    def update(self, label: str, model: Any, actions: list[Any], condition: Condition | None = None) -> None:
        self._labels["update"].append(label)
        self._write.update(model, actions=actions, condition=condition)

    def delete(self, label: str, model: Any, condition: Condition | None = None) -> None:
        self._labels["delete"].append(label)
        self._write.delete(model, condition=condition)

    def ordered_labels(self) -> list[str]:
        return [label for kind in _KIND_ORDER for label in self._labels[kind]]


@contextmanager
def transaction() -> Iterator[Tx]:
    tx = Tx(TransactWrite(connection=connection()))
    try:
        with tx._write:
            yield tx
    except TransactWriteError as error:
        reasons = error.cancellation_reasons
        if not reasons:
            raise
        failed = {
            label: reason.code
            for label, reason in zip(tx.ordered_labels(), reasons, strict=False)
            if reason is not None and reason.code != "None"
        }
        raise TransactionFailed(failed, error) from error

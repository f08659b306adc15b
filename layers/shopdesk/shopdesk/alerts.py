"""Threshold-alert settings, and their delivery through the store's supervisor SNS topic.

Each recipient is one subscription on the topic (email or SMS), filtered on the levels it receives:
a message carries `kind = threshold_alert` and `audience = shop` or `group:{id}`, so SNS delivers a
level's message to that level's recipients only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any

from shopdesk import keys
from shopdesk.clock import Clock, iso
from shopdesk.errors import ValidationFailed
from shopdesk.models import AlertSettingsModel
from shopdesk.monitoring import AGENT_ALERTABLE, GROUP_ALERTABLE, MAX_RECIPIENTS, SHOP_ALERTABLE, AlertMessage, Level
from shopdesk.store import plain

ALERT_KIND = "threshold_alert"
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")
PHONE = re.compile(r"^\+[1-9]\d{6,14}$")  # E.164, as SNS SMS wants it


def audience(level: str, group_id: str = "") -> str:
    return "shop" if level == "shop" else f"group:{group_id}"


class AlertSettings:
    def __init__(self, clock: Clock, sns: Callable[[], Any], topic_arn: str) -> None:
        self._clock = clock
        self._sns = sns
        self._topic_arn = topic_arn

    def get(self) -> AlertSettingsModel:
        try:
            return AlertSettingsModel.get(keys.STORE_PK, keys.ALERTS_SK, consistent_read=True)
        except AlertSettingsModel.DoesNotExist:
            return AlertSettingsModel(keys.STORE_PK, keys.ALERTS_SK)

    def view(self, settings: AlertSettingsModel | None = None) -> dict[str, Any]:
        settings = settings or self.get()
        return {
            "shop": _level_view(plain(settings.shop)),
            "groups": {g: _level_view(v) for g, v in plain(settings.groups).items()},
        }

    def levels(self, settings: AlertSettingsModel | None = None) -> tuple[Level, dict[str, Level]]:
        settings = settings or self.get()
        groups = {group_id: _level(level) for group_id, level in plain(settings.groups).items()}
        return _level(plain(settings.shop)), groups

    def update(
        self, shop: Mapping[str, Any], groups: Mapping[str, Mapping[str, Any]], known_groups: set[str]
    ) -> AlertSettingsModel:
        """Checks everything first; then subscribes new recipients, refilters changed ones, drops removed ones."""
        wanted_shop = _checked(shop, "shop", SHOP_ALERTABLE, ())
        wanted_groups = {}
        for group_id, level in groups.items():
            if group_id not in known_groups:
                raise ValidationFailed("No such group.", field=f"groups.{group_id}")
            wanted_groups[group_id] = _checked(level, f"groups.{group_id}", GROUP_ALERTABLE, AGENT_ALERTABLE)
        current = self.get()
        audiences: dict[str, set[str]] = {}
        for recipient in wanted_shop["recipients"]:
            audiences.setdefault(recipient, set()).add(audience("shop"))
        for group_id, level in wanted_groups.items():
            for recipient in level["recipients"]:
                audiences.setdefault(recipient, set()).add(audience("group", group_id))
        subscriptions = self._resubscribe(plain(current.subscriptions), audiences)
        settings = AlertSettingsModel(
            keys.STORE_PK,
            keys.ALERTS_SK,
            shop=wanted_shop,
            groups=wanted_groups,
            subscriptions=subscriptions,
            version=int(current.version) + 1,
            updated_at=iso(self._clock.now()),
        )
        settings.save(
            condition=AlertSettingsModel.version.does_not_exist() | (AlertSettingsModel.version == int(current.version))
        )
        return settings

    def send(self, messages: list[tuple[AlertMessage, str]]) -> None:
        """Publishes each message to its level's recipients (and the store's alert email, unfiltered)."""
        client = self._sns()
        for message, text in messages:
            client.publish(
                TopicArn=self._topic_arn,
                Subject="ShopDesk 阈值告警",
                Message=text,
                MessageAttributes={
                    "kind": {"DataType": "String", "StringValue": ALERT_KIND},
                    "audience": {"DataType": "String", "StringValue": audience(message.level, message.group_id)},
                },
            )

    def _resubscribe(self, current: Mapping[str, Any], audiences: Mapping[str, set[str]]) -> dict[str, Any]:
        client = self._sns()
        kept: dict[str, Any] = {}
        for recipient, subscription in current.items():
            arn = str(subscription.get("arn", ""))
            if recipient not in audiences and arn.startswith("arn:"):
                # Never confirmed: SNS refuses the call, and drops such a subscription by itself after 3 days.
                with suppress(client.exceptions.InvalidParameterException):
                    client.unsubscribe(SubscriptionArn=arn)
        for recipient, wanted in sorted(audiences.items()):
            policy = json.dumps({"kind": [ALERT_KIND], "audience": sorted(wanted)})
            existing = current.get(recipient)
            arn = str(existing.get("arn", "")) if existing else ""
            if arn.startswith("arn:"):
                if sorted(existing.get("audiences", [])) != sorted(wanted):  # type: ignore[union-attr]
                    client.set_subscription_attributes(
                        SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue=policy
                    )
            else:
                # An email subscription stays "pending confirmation" until the recipient clicks the link.
                arn = client.subscribe(
                    TopicArn=self._topic_arn,
                    Protocol="email" if "@" in recipient else "sms",
                    Endpoint=recipient,
                    Attributes={"FilterPolicy": policy},
                    ReturnSubscriptionArn=True,
                )["SubscriptionArn"]
            kept[recipient] = {"arn": arn, "audiences": sorted(wanted)}
        return kept


def _checked(
    level: Mapping[str, Any], field: str, figures: tuple[str, ...], agent_figures: tuple[str, ...]
) -> dict[str, Any]:
    recipients = [str(r).strip() for r in level.get("recipients") or [] if str(r).strip()]
    if len(recipients) > MAX_RECIPIENTS:
        raise ValidationFailed(f"At most {MAX_RECIPIENTS} recipients per level.", field=f"{field}.recipients")
    for recipient in recipients:
        if not (EMAIL.match(recipient) or PHONE.match(recipient)):
            raise ValidationFailed(
                f"{recipient!r} is neither an email address nor a phone number like +8613800000000.",
                field=f"{field}.recipients",
            )
    checked: dict[str, Any] = {
        "enabled": bool(level.get("enabled", False)),
        "thresholds": _thresholds(level.get("thresholds") or {}, figures, f"{field}.thresholds"),
        "recipients": list(dict.fromkeys(recipients)),
    }
    if agent_figures:
        checked["agent_thresholds"] = _thresholds(
            level.get("agent_thresholds") or {}, agent_figures, f"{field}.agent_thresholds"
        )
    return checked


def _thresholds(values: Mapping[str, Any], figures: tuple[str, ...], field: str) -> dict[str, float]:
    thresholds: dict[str, float] = {}
    for figure, value in values.items():
        if figure not in figures:
            raise ValidationFailed(f"{figure} cannot carry a threshold; one of {', '.join(figures)}.", field=field)
        if value is None:
            continue  # no threshold: the figure does not alert
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value < 0:
            raise ValidationFailed(
                f"The threshold for {figure} must be a number of at least 0.", field=f"{field}.{figure}"
            )
        thresholds[figure] = float(value)
    return thresholds


def _level(stored: Mapping[str, Any]) -> Level:
    return Level(
        enabled=bool(stored.get("enabled", False)),
        thresholds={k: float(v) for k, v in plain_map(stored.get("thresholds")).items()},
        agent_thresholds={k: float(v) for k, v in plain_map(stored.get("agent_thresholds")).items()},
        recipients=tuple(str(r) for r in stored.get("recipients") or []),
    )


def _level_view(stored: Mapping[str, Any]) -> dict[str, Any]:
    level = _level(stored)
    return {
        "enabled": level.enabled,
        "thresholds": dict(level.thresholds),
        "agent_thresholds": dict(level.agent_thresholds),
        "recipients": list(level.recipients),
    }


def plain_map(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}

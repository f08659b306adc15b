"""Whether the bot takes a new chat: light enough for every chat to ask, without loading the bot itself."""

from __future__ import annotations

from collections.abc import Callable

from shopdesk.models import BotConfigModel
from shopdesk.repositories import BotConfigRepository
from shopdesk.store import StoreSettings


class BotMode:
    def __init__(self, config: BotConfigRepository, store: StoreSettings, online_agents: Callable[[], int]) -> None:
        self._config = config
        self._store = store
        self._online_agents = online_agents

    def takes_new_chats(self, config: BotConfigModel | None = None) -> BotConfigModel | None:
        """The bot's settings when it takes a new chat now, else None.

        bot-first always; human-first only while no agent is online or the store is closed.
        """
        config = config or self._config.get()
        if config.mode == "bot_first":
            return config
        if config.mode == "human_first" and (self._online_agents() == 0 or not self._store.is_open()):
            return config
        return None

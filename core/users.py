"""Who may do what: roles from TELEGRAM_ADMIN_IDS and the users table, cached in memory."""

from __future__ import annotations

from collections.abc import Iterable

from core.models import Role, User


class UserDirectory:
    """In-memory view of known users; the database is the record, this is the fast path.

    Admins named in the configuration are always admins and cannot be revoked from chat.
    """

    def __init__(self, admin_ids: Iterable[int]) -> None:
        self._config_admins = frozenset(int(i) for i in admin_ids)
        self._users: dict[int, User] = {}

    def load(self, users: Iterable[User]) -> None:
        self._users = {u.telegram_id: u for u in users}

    def lookup(self, telegram_id: int) -> User | None:
        if telegram_id in self._config_admins:
            stored = self._users.get(telegram_id)
            return User(telegram_id=telegram_id, role=Role.ADMIN, name=stored.name if stored else "",
                        from_config=True)
        return self._users.get(telegram_id)

    def put(self, user: User) -> None:
        self._users[user.telegram_id] = user

    def remove(self, telegram_id: int) -> None:
        self._users.pop(telegram_id, None)

    def is_config_admin(self, telegram_id: int) -> bool:
        return telegram_id in self._config_admins

    def all(self) -> list[User]:
        merged = {uid: self.lookup(uid) for uid in {*self._users, *self._config_admins}}
        return sorted((u for u in merged.values() if u), key=lambda u: (-u.role.rank, u.telegram_id))


def parse_role(text: str) -> Role | None:
    try:
        return Role(text.strip().lower())
    except ValueError:
        return None

#!/usr/bin/env bash
# Prints `export` lines for the services that answer on this machine; `make test` sources them.
# Tests for a service skip, saying why, when its variable is absent.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -z "${MONEYBOT_TEST_POSTGRES_URL:-}" ] && port_open 5432; then
  echo "export MONEYBOT_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test"
fi
if [ -z "${MONEYBOT_TEST_REDIS_URL:-}" ] && port_open 6379; then
  echo "export MONEYBOT_TEST_REDIS_URL=redis://127.0.0.1:6379/15"
fi
true

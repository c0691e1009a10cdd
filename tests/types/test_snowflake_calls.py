"""SnowflakeConnector's Prefect calls (fetch_one/fetch_many/fetch_all/execute/execute_many).

No Snowflake server runs here and the connector package is not installed, so these tests cover
what runs without one: argument checks (made before connecting) and the clear error naming the
extra when a call has to connect.
"""

from __future__ import annotations

import importlib.util
import pickle
from typing import Any

import pytest

from blocks import MissingExtraError, SnowflakeConnector

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("snowflake") is not None,
    reason="snowflake-connector-python is installed: the missing-extra path cannot be shown",
)


def connector() -> SnowflakeConnector:
    return SnowflakeConnector(
        credentials={"account": "nh12345.us-east-2.aws", "user": "etl", "password": "pw-xyz"},
        database="analytics", warehouse="wh", schema="public", fetch_size=5,
    )


@pytest.mark.parametrize("call", [
    lambda c: c.fetch_one(""),
    lambda c: c.fetch_all(None),
    lambda c: c.execute("  "),
    lambda c: c.execute_many("", []),
])
def test_operation_must_be_sql_text(call: Any) -> None:
    with pytest.raises(TypeError, match="non-empty SQL"):
        call(connector())


@pytest.mark.parametrize("bad", [{"x": 1}, "insert", [{"x": 1}, None], 42])
def test_execute_many_needs_a_list_of_parameter_sets(bad: Any) -> None:
    with pytest.raises(TypeError, match="seq_of_parameters"):
        connector().execute_many("insert into t values (%(x)s)", bad)


def test_parameters_are_a_dict_or_a_sequence() -> None:
    with pytest.raises(TypeError, match="parameters must be"):
        connector().fetch_one("select %s", 5)


def test_fetch_many_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        connector().fetch_many("select 1", size=0)


@pytest.mark.parametrize("call", [
    lambda c: c.fetch_one("select 1"),
    lambda c: c.fetch_many("select 1", {"a": 1}),
    lambda c: c.fetch_all("select 1", [1]),
    lambda c: c.execute("create table t (x int)"),
    lambda c: c.execute_many("insert into t values (%s)", [[1], [2]]),
])
def test_valid_calls_reach_the_connector_and_name_the_extra(call: Any) -> None:
    with pytest.raises(MissingExtraError) as info:
        call(connector())
    assert "blocks-registry[snowflake]" in str(info.value)
    assert "pw-xyz" not in str(info.value)


def test_reset_and_close_without_a_connection_are_no_ops() -> None:
    block = connector()
    block.reset_cursors()
    block.close()
    with block as same:
        assert same is block
    assert pickle.loads(pickle.dumps(block)) == block

"""Key builders: stable layouts that sort the way the access patterns need."""

import pytest
from shopdesk import keys

pytestmark = pytest.mark.unit


def test_entity_keys_carry_their_type_prefix():
    assert keys.session_pk("s-1") == "SESSION#s-1"
    assert keys.agent_pk("a-1") == "AGENT#a-1"
    assert keys.group_pk("presales") == "GROUP#presales"
    assert keys.visitor_pk("v-1") == "VISITOR#v-1"
    assert keys.connection_pk("c1") == "CONN#c1"


def test_message_keys_sort_in_sequence_order_as_strings():
    # Given sequence numbers whose decimal strings would sort wrongly
    seqs = [2, 10, 1, 100]
    # When their keys are sorted as DynamoDB sorts strings
    ordered = sorted(keys.message_sk(s) for s in seqs)
    # Then the order is numeric
    assert ordered == [keys.message_sk(s) for s in sorted(seqs)]


def test_client_message_ids_are_scoped_by_sender():
    assert keys.client_message_sk("v-1", "m1") != keys.client_message_sk("a-1", "m1")


def test_visitors_and_staff_never_share_a_principal_key():
    assert keys.principal_key("visitor", "x") == "visitor:x"
    assert keys.principal_key("agent", "x") == "staff:x"
    assert keys.principal_key("leader", "x") == "staff:x"


def test_owner_keys_separate_queue_offline_and_agent_lists():
    owners = {
        keys.queue_gsi("presales"),
        keys.offline_gsi("presales"),
        keys.agent_sessions_gsi("a", "active"),
        keys.agent_sessions_gsi("a", "ended"),
    }
    assert len(owners) == 4


def test_timeline_keys_order_by_time_then_session():
    early = keys.timeline_sk("2026-01-01T00:00:00.000Z", "s-b")
    late = keys.timeline_sk("2026-01-01T00:00:01.000Z", "s-a")
    assert early < late


def test_ticket_keys_and_a_timeline_in_write_order():
    assert keys.ticket_pk("t-1") == "TICKET#t-1"
    assert keys.visitor_tickets_gsi("v-1") == "VTICKETS#v-1"
    assert keys.ticket_event_sk(9, 0) < keys.ticket_event_sk(10, 0) < keys.ticket_event_sk(10, 1)

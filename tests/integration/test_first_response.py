"""The 30-second first-response rule: a delayed SQS timer, fired through the reminder handler."""

from __future__ import annotations

import json
import uuid

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def timers(world):
    """Observes the timers the chat handler starts (the real SQS call still goes to moto)."""
    sent: list[dict] = []
    sqs = world.stack.module("ChatSocketFunction").container.reminders._sqs()

    def record(params, **_):
        sent.append(params)

    sqs.meta.events.register("provide-client-params.sqs.SendMessage", record)
    yield sent
    sqs.meta.events.unregister("provide-client-params.sqs.SendMessage", record)


def sqs_event(bodies):
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "r",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:ap-southeast-1:123456789012:reminders",
                "awsRegion": "ap-southeast-1",
            }
            for body in bodies
        ]
    }


@pytest.fixture
def chat(opened_chat):
    return opened_chat


def test_an_unanswered_customer_triggers_a_reminder_and_a_slow_response_record(chat, timers):
    world, agent, visitor, session_id = chat
    # Given a customer message that starts a timer of the store's threshold
    visitor.say(session_id, "在吗？")
    assert [t["DelaySeconds"] for t in timers] == [30]
    # When the timer fires 31 seconds later with no reply
    world.clock.advance(seconds=31)
    result = world.stack.invoke("ReminderFunction", sqs_event([timers[0]["MessageBody"]]))
    # Then the agent is reminded, and the slow response is recorded for the session and the agent's KPIs
    assert result == {"batchItemFailures": []}
    assert [(f["session_id"], f["waiting_seconds"]) for f in agent.frames("reminder")] == [(session_id, 31)]
    assert int(world.container.chat.session(session_id).slow_responses) == 1
    from shopdesk import keys
    from shopdesk.models import AgentKpiModel

    day = world.clock.now().strftime("%Y-%m-%d")
    assert int(AgentKpiModel.get(keys.agent_kpi_pk(agent.id, day), "SUMMARY").slow_responses) == 1
    # And a duplicate delivery of the same timer records nothing more
    world.stack.invoke("ReminderFunction", sqs_event([timers[0]["MessageBody"]]))
    assert len(agent.frames("reminder")) == 1
    assert int(world.container.chat.session(session_id).slow_responses) == 1


def test_a_reply_in_time_cancels_the_reminder(chat, timers):
    world, agent, visitor, session_id = chat
    visitor.say(session_id, "在吗？")
    world.clock.advance(seconds=10)
    agent.say(session_id, "在的")
    world.clock.advance(seconds=21)
    world.stack.invoke("ReminderFunction", sqs_event([t["MessageBody"] for t in timers]))
    assert agent.frames("reminder") == []
    assert int(world.container.chat.session(session_id).slow_responses) == 0


def test_only_the_first_unanswered_message_starts_a_timer(chat, timers):
    world, agent, visitor, session_id = chat
    visitor.say(session_id, "在吗？")
    visitor.say(session_id, "有人吗？")
    assert len(timers) == 1
    agent.say(session_id, "在的")
    visitor.say(session_id, "好的")
    assert len(timers) == 2
    assert json.loads(timers[1]["MessageBody"])["session_id"] == session_id


def test_a_customer_who_waited_in_the_queue_starts_the_timer_when_an_agent_takes_the_chat(world, timers):
    # Given a customer who spoke while nobody was online
    world.group("presales", ["尺码"], default=True)
    visitor = world.visitor()
    visitor.connect()
    session_id = visitor.open_session()
    visitor.say(session_id, "有人吗？")
    assert timers == []
    # When an agent comes online and the queue hands them the chat
    agent = world.staff(groups=("presales",))
    agent.connect()
    assert world.container.chat.session(session_id).agent_id == agent.id
    # Then the first-response timer runs from the customer's first unanswered message
    (timer,) = timers
    assert json.loads(timer["MessageBody"])["session_id"] == session_id

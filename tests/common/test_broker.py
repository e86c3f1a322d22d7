"""autogpt.broker: the Redis broker's transport keeps one client per connection pool, and
messages go and come as with kombu's own."""

import uuid

import pytest
from django.conf import settings
from kombu import Connection, Exchange, Queue

pytestmark = pytest.mark.skipif(
    settings.CELERY_BROKER_TRANSPORT is None, reason="only a redis:// broker uses it"
)


def test_a_channel_keeps_its_client_until_its_pool_changes() -> None:
    with Connection(settings.CELERY_BROKER_URL, transport=settings.CELERY_BROKER_TRANSPORT) as conn:
        channel = conn.channel()
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
            assert first.connection_pool is channel.pool
        channel._pool = None  # as after a reconnection: a new pool, a new client on it
        with channel.conn_or_acquire() as third:
            assert third is not first
            assert third.connection_pool is channel.pool
        channel.close()


def test_a_message_is_published_consumed_and_acknowledged() -> None:
    name = f"test-broker-{uuid.uuid4().hex}"
    queue = Queue(name, Exchange(name, type="direct"), routing_key=name)
    with Connection(settings.CELERY_BROKER_URL, transport=settings.CELERY_BROKER_TRANSPORT) as conn:
        producer = conn.Producer()
        for body in ({"n": 1}, {"n": 2}):
            producer.publish(body, exchange=queue.exchange, routing_key=name, declare=[queue])
        bound = queue(conn.channel())
        received = []
        while (message := bound.get(no_ack=False)) is not None:
            received.append(message.payload)
            message.ack()
        assert received == [{"n": 1}, {"n": 2}]
        assert bound.get() is None
        bound.delete()

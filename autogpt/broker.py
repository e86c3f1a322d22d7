"""kombu's Redis transport, keeping one Redis client per connection pool.

kombu builds a new `redis.Redis` for every publish and every acknowledgement (its
`conn_or_acquire`): about 60 µs each here, three per run (the web's publish, the worker's
unacked bookkeeping and its ack), for an object that only borrows connections from the pool it
is given, and so is safe to share between threads. The client is made again when the channel's
pool is (after a reconnection). Used for `redis://` and `rediss://` brokers (settings).
"""

from typing import Any

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _shared_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:  # the consumer's own connection (BRPOP), made once per channel
            return super()._create_client(asynchronous=True)  # type: ignore[misc]  # untyped
        client = self._shared_client
        if client is None or client.connection_pool is not self.pool:
            client = self._shared_client = super()._create_client()  # type: ignore[misc]
        return client


class Transport(kombu_redis.Transport):
    Channel = Channel

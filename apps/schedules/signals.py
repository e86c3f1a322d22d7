"""What schedules tell the layers above (notifications listens): sent after commit."""

from django.dispatch import Signal

# sender=None; kwargs: attempt_id, user_id, schedule_id, schedule_name, graph_id,
# error_code, message (why no run could start)
schedule_attempt_failed = Signal()

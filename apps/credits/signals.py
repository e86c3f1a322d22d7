"""What credits tell the layers above (notifications listens): sent after commit."""

from django.dispatch import Signal

# sender=None; kwargs: user_id, balance, threshold
balance_low = Signal()
# sender=None; kwargs: user_id
balance_zero = Signal()

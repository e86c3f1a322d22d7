"""What the store tells the layers above (notifications listens): sent after commit."""

from django.dispatch import Signal

# sender=None; kwargs: user_id (the creator), listing_version_id, agent_name,
# status ("APPROVED" | "REJECTED"), reviewer_comments (the comments meant for the creator)
submission_reviewed = Signal()

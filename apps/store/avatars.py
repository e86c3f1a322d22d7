"""Creator avatars: an uploaded image is checked and re-encoded by Pillow into a square PNG
(metadata dropped, at most AVATAR_SIZE pixels a side), stored in its own table and served by
GET /api/store/creators/{username}/avatar."""

import hashlib
import io
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from PIL import Image, ImageOps, UnidentifiedImageError

from apps.common.exceptions import NotFound, PayloadTooLarge, ValidationFailed
from apps.store.models import Profile, ProfileAvatar
from apps.store.services import profile_ensure
from apps.users.models import User

AVATAR_SIZE = 256
MAX_BYTES = 2 * 1024 * 1024
# Decoding is bounded before it starts: a small file may declare a huge canvas.
MAX_PIXELS = 25_000_000
FORMATS = ("PNG", "JPEG", "GIF", "WEBP")


def _reencoded(data: bytes) -> bytes:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in FORMATS:
                raise ValidationFailed(
                    f"An avatar must be PNG, JPEG, GIF or WebP, not {image.format}.",
                    details={"fields": {"avatar": "format"}},
                )
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ValidationFailed(
                    f"The image is {width}x{height} pixels; at most {MAX_PIXELS:,} in all.",
                    details={"fields": {"avatar": "too many pixels"}},
                )
            square = ImageOps.fit(
                ImageOps.exif_transpose(image).convert("RGBA"), (AVATAR_SIZE, AVATAR_SIZE)
            )
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValidationFailed(
            "The file is not an image Pillow can read.", details={"fields": {"avatar": "image"}}
        ) from None
    out = io.BytesIO()
    square.save(out, format="PNG", optimize=True)
    return out.getvalue()


@transaction.atomic
def profile_avatar_set(*, user: User, upload: Any) -> Profile:
    """Store `upload` (a file-like object with `size`) as the user's avatar, creating their
    profile when they have none; avatar_url then names it, with its hash to bust caches."""
    if upload.size > MAX_BYTES:
        raise PayloadTooLarge(
            f"The image is {upload.size} bytes; an avatar may have {MAX_BYTES}.",
            details={"max_bytes": MAX_BYTES},
        )
    png = _reencoded(upload.read())
    digest = hashlib.sha256(png).hexdigest()
    profile = profile_ensure(user=user)
    ProfileAvatar.objects.update_or_create(profile=profile, defaults={"png": png, "sha256": digest})
    path = reverse("store-creator-avatar", kwargs={"username": profile.username})
    profile.avatar_url = f"{settings.SITE_URL.rstrip('/')}{path}?v={digest[:12]}"
    profile.save(update_fields=["avatar_url", "updated_at"])
    return profile


def profile_avatar_get(*, username: str) -> ProfileAvatar:
    """Anyone may see an avatar: it is part of the public creator page."""
    avatar = ProfileAvatar.objects.filter(profile__username__iexact=username).first()
    if avatar is None:
        raise NotFound("This creator has no uploaded avatar.")
    return avatar

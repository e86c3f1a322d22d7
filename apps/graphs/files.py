"""The user's uploaded files as the FileStore handed to blocks through their context."""

from apps.common.exceptions import NotFound
from apps.graphs.blocks.context import FileInfo, FileNotAvailable, PlatformFault
from apps.integrations import selectors as integration_selectors
from apps.integrations.models import UploadedFile


class UploadedFiles:
    def __init__(self, *, user_id: str) -> None:
        self.user_id = user_id

    def _row(self, reference: str) -> UploadedFile:
        try:
            return integration_selectors.file_get(user_id=self.user_id, file_id=reference)
        except NotFound as exc:
            raise FileNotAvailable(f"{exc.message} ({reference})") from None

    def info(self, reference: str) -> FileInfo:
        row = self._row(reference)
        return FileInfo(id=str(row.pk), name=row.name, content_type=row.content_type, size=row.size)

    def read(self, reference: str) -> bytes:
        row = self._row(reference)
        try:
            return integration_selectors.file_content(row=row)
        except OSError as exc:
            # The row says the platform holds the file: losing its content is the platform's.
            raise PlatformFault(f"The file store could not read {row.name}.") from exc

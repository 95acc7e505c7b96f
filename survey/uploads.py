"""An upload handler that keeps files in memory up to the upload limit and never writes a temporary file.

Django's default handlers spool large uploads to the temporary folder, where a request killed while it
parses leaves them forever. Here every upload is held in memory, at most ``CANDID_UPLOAD_MAX_BYTES``
of it: beyond that the rest is counted and dropped, and the file arrives empty with its true ``size``,
so that the form refuses it by size (survey/xlsform/limits.py) before anything reads it. A file given
by its path (a command's argument, a study bundle) is read as boundedly: :func:`read_at_most`.
"""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler


def read_at_most(path: str | Path, limit: int) -> bytes:
    """The bytes of the file at ``path``, at most ``limit + 1`` of them: one more than the limit, so that
    the caller's size check refuses a file over it without reading the rest. What ``stat()`` says is
    no bound (0 for a device or a pipe, ``/dev/zero`` never ends, a file may grow while it is read).
    Raises ``OSError`` as ``open`` does (a folder, a file that does not exist)."""
    with open(path, "rb") as file:
        return file.read(limit + 1)


class BoundedMemoryUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.size = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.size <= settings.CANDID_UPLOAD_MAX_BYTES:
            self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        if self.size > settings.CANDID_UPLOAD_MAX_BYTES:
            self.buffer = io.BytesIO()  # over the limit: nothing of it is kept
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=self.size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )

"""An upload handler that keeps files in memory up to the upload limit and never writes a temporary file.

Django's default handlers spool large uploads to the temporary folder, where a request killed while it
parses leaves them forever. Here every upload is held in memory, at most ``CANDID_UPLOAD_MAX_BYTES``
of it: beyond that the rest is counted and dropped, and the file arrives empty with its true ``size``,
so that the form refuses it by size (survey/xlsform/limits.py) before anything reads it.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler


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

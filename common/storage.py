"""Private files: what only a view that checks who asks may hand out (a hub's evidence archive for an auditor).

They live in their own storage, ``STORAGES["private"]``, on a disk no web server serves: the settings put it
outside ``STATIC_ROOT`` and ``WHITENOISE_ROOT``, and the site serves no ``MEDIA_URL``. A private file has no
address of its own (``url()`` refuses), so a template or an API cannot link to it by mistake; its view opens it
and streams it to a person allowed to have it.
"""

from django.core.files.storage import FileSystemStorage, Storage, storages

PRIVATE_STORAGE = "private"


class PrivateFileSystemStorage(FileSystemStorage):
    """Files on a local or mounted disk, shared by the web and worker processes, never served by URL."""

    def url(self, name: str | None) -> str:
        raise ValueError("A private file has no public address: hand it out through its permission-checked view.")


def private_storage() -> Storage:
    return storages[PRIVATE_STORAGE]

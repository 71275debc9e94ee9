"""Guards every reader passes first: no pickles, and zip members read within an uncompressed budget."""

from __future__ import annotations

import io
import zipfile

from service.interop.errors import CorruptFile, KeyMismatch, TooLarge, UnsafeFile

PICKLE_ADVICE = (
    "pickles (torch.save's .pt/.pth, Keras's legacy pickled models) can run code when they are loaded, so they are never read; "
    "save the state_dict with safetensors: safetensors.torch.save_file(model.state_dict(), 'model.safetensors')"
)


def refuse_pickle(data: bytes) -> None:
    """Refuse a pickle (protocol 2–5 starts with 0x80 and its protocol byte) or a torch.save zip (it holds ``data.pkl``)."""
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        raise UnsafeFile(f"this is a Python pickle; {PICKLE_ADVICE}")
    if data[:4] == b"PK\x03\x04":
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, ValueError):
            return  # the format's own reader says what is wrong
        if any(name == "data.pkl" or name.endswith("/data.pkl") for name in names):
            raise UnsafeFile(f"this is a torch.save archive (it holds data.pkl, a pickle); {PICKLE_ADVICE}")


class Archive:
    """A zip read member by member, refusing to unpack more than ``limit`` bytes in all (a zip bomb stops there)."""

    def __init__(self, data: bytes, limit: int, what: str) -> None:
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError) as exc:
            raise CorruptFile(f"is not a zip archive ({exc}); a {what} file is a zip", "") from None
        self.limit = limit
        self.left = limit
        declared = sum(info.file_size for info in self.zip.infolist())
        if declared > limit:
            raise TooLarge(f"the archive declares {declared:,} bytes unpacked; the limit max_import_uncompressed_bytes is {limit:,}")

    def names(self) -> list[str]:
        return self.zip.namelist()

    def read(self, name: str) -> bytes:
        """One member's bytes; counts what it unpacks, so a member that lies about its size still stops at the limit."""
        try:
            with self.zip.open(name) as member:
                content = member.read(self.left + 1)
        except KeyError:
            raise KeyMismatch(f"the archive has no {name}; its members: {', '.join(self.names()) or 'none'}", f"/{name}") from None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:  # bad CRC, truncated stream, unknown compression
            raise CorruptFile(f"cannot be unpacked ({exc})", f"/{name}") from None
        if len(content) > self.left:
            raise TooLarge(f"unpacks past the limit max_import_uncompressed_bytes ({self.limit:,} bytes in all)", f"/{name}")
        self.left -= len(content)
        return content

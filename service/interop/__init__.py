"""Networks in and out of Keras, PyTorch (safetensors) and ONNX files: no HTTP here.

:func:`read_network` turns a file into the service's wire network (W out × in, the engine's activation
names) plus ``source``, what was read; :func:`write_network` does the reverse. The formats are listed
once, in :data:`FORMATS` (``formats.py``); every problem with a file is an :class:`InteropError`
(``errors.py``) naming what is wrong and where. Reading never runs code from the file: pickles are refused.
"""

from service.interop.convert import DEFAULT_MAX_UNCOMPRESSED_BYTES, Exported, Imported, read_network, write_network
from service.interop.errors import InteropError
from service.interop.formats import FORMATS, ExportFormatName, Format, FormatName

__all__ = [
    "DEFAULT_MAX_UNCOMPRESSED_BYTES",
    "FORMATS",
    "ExportFormatName",
    "Exported",
    "Format",
    "FormatName",
    "Imported",
    "InteropError",
    "read_network",
    "write_network",
]

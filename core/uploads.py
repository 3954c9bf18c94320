"""Reading the text of an uploaded CSV file, shared by every upload (customer import, batch
recharge): UTF-8 with or without a BOM, or GBK (GB18030) when the person chose it — Excel on
Chinese Windows saves CSV as GBK. Nothing is guessed silently: a file that is not what was
chosen is refused, and the refusal says what the bytes look like so the message can help.
"""

from dataclasses import dataclass


@dataclass
class NotUtf8(ValueError):
    """Not UTF-8; ``gbk_readable``: the bytes do decode as GB18030."""

    data: bytes
    gbk_readable: bool

    def detected(self) -> str:
        """What charset_normalizer takes the file for, as a name a person knows."""
        from charset_normalizer import from_bytes

        best = from_bytes(self.data[:200_000]).best()
        name = (best.encoding if best is not None else "") or "unknown"
        return {"gb18030": "GB18030 (GBK)", "gbk": "GBK", "gb2312": "GB2312 (GBK)"}.get(
            name.lower(), name.upper()
        )


class NotGbk(ValueError):
    """GBK was chosen but the bytes are not GB18030."""


def csv_text(data: bytes, encoding: str) -> str:
    """The text of a CSV upload read as ``encoding`` ("gbk", else UTF-8); NotUtf8 / NotGbk."""
    if encoding == "gbk":
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise NotGbk from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            data.decode("gb18030")
            gbk_readable = True
        except UnicodeDecodeError:
            gbk_readable = False
        raise NotUtf8(data, gbk_readable) from None

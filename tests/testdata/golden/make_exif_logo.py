#!/usr/bin/env python3
"""Writes brand/logo-exif-rotated.png: a logo stored sideways with an EXIF
Orientation of 6 in a PNG eXIf chunk, so that only a loader that applies the
orientation shows it upright (a red band on top, a green band at the bottom).

Usage: python3 make_exif_logo.py   (needs only the Python standard library)
"""
import struct
import zlib

UPRIGHT_W, UPRIGHT_H = 300, 400


def upright_pixel(x, y):
    if y < 80:
        return (200, 16, 46, 255)  # red band on top
    if y >= UPRIGHT_H - 80:
        return (29, 165, 92, 255)  # green band at the bottom
    if abs(x - UPRIGHT_W // 2) < (y - 80) // 3 and y < 240:
        return (11, 29, 81, 255)  # an arrow head pointing up
    return (255, 255, 255, 255)


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def exif_orientation(value):
    # A big-endian TIFF header with one IFD entry: Orientation (0x0112), SHORT.
    ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, value, 0) + struct.pack(">I", 0)
    return b"MM" + struct.pack(">HI", 42, 8) + ifd


def main():
    # Orientation 6 means "rotate 90 degrees clockwise to display", so the
    # stored picture is the upright one turned 90 degrees counter-clockwise.
    stored_w, stored_h = UPRIGHT_H, UPRIGHT_W
    rows = []
    for sy in range(stored_h):
        row = bytearray([0])
        for sx in range(stored_w):
            ux, uy = UPRIGHT_W - 1 - sy, sx
            row.extend(upright_pixel(ux, uy))
        rows.append(bytes(row))
    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", stored_w, stored_h, 8, 6, 0, 0, 0))
    png += chunk(b"eXIf", exif_orientation(6))
    png += chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
    png += chunk(b"IEND", b"")
    with open("brand/logo-exif-rotated.png", "wb") as f:
        f.write(png)


if __name__ == "__main__":
    main()

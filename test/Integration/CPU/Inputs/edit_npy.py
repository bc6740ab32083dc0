"""Edits a .npy file that attn-run wrote (version 1.0, little-endian f4), with
the standard library only, for attn-run's lit tests:

  edit_npy.py FILE fill VALUE        every element becomes VALUE ("nan", "inf")
  edit_npy.py FILE set INDEX VALUE   element INDEX (linear) becomes VALUE
  edit_npy.py FILE version MAJOR     the format version byte becomes MAJOR
"""
import struct
import sys


def main():
    path, command = sys.argv[1], sys.argv[2]
    data = bytearray(open(path, "rb").read())
    header_length = struct.unpack_from("<H", data, 8)[0]
    offset = 10 + header_length
    count = (len(data) - offset) // 4
    if command == "fill":
        data[offset:] = struct.pack("<f", float(sys.argv[3])) * count
    elif command == "set":
        struct.pack_into("<f", data, offset + 4 * int(sys.argv[3]),
                         float(sys.argv[4]))
    elif command == "version":
        data[6] = int(sys.argv[3])
    else:
        sys.exit("unknown command " + command)
    open(path, "wb").write(data)


if __name__ == "__main__":
    main()

package dev.nemotron4j.formats.pytorch;

import dev.nemotron4j.formats.ModelFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The entries of a zip archive read from its central directory over a mapped file, as slices of that file. Layout
 * (PKWARE APPNOTE): local headers + data, then the central directory, then the end-of-central-directory record (EOCD,
 * found by scanning back over an optional comment). Archives over 4 GiB (every real checkpoint) use ZIP64: a locator
 * just before the EOCD points at a ZIP64 EOCD, and oversized entry fields move into a 0x0001 extra field. Data
 * starts after the entry's local header, whose extra field (torch pads with it to align data) may differ from the
 * central one. Only STORED entries are supported: torch.save never compresses.
 */
final class ZipArchive {
    private static final int EOCD_SIG = 0x06054b50;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final int ZIP64_EOCD_SIG = 0x06064b50;
    private static final int CENTRAL_SIG = 0x02014b50;
    private static final int LOCAL_SIG = 0x04034b50;
    private static final long U32_MAX = 0xFFFFFFFFL;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment seg;
    private final Path path;
    private final Map<String, MemorySegment> entries = new LinkedHashMap<>();

    ZipArchive(MemorySegment seg, Path path) {
        this.seg = seg;
        this.path = path;
        long eocd = findEocd();
        long count = u16(eocd + 10);
        long cdSize = u32(eocd + 12);
        long cdOffset = u32(eocd + 16);
        if (eocd >= 20 && u32(eocd - 20) == ZIP64_LOCATOR_SIG) {
            long z = u64(eocd - 20 + 8);
            if (z < 0 || z > eocd - 20 - 56 || u32(z) != ZIP64_EOCD_SIG) {
                throw error("ZIP64 end-of-central-directory record is missing or corrupt");
            }
            count = u64(z + 32);
            cdSize = u64(z + 40);
            cdOffset = u64(z + 48);
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > seg.byteSize() || cdSize > seg.byteSize() - cdOffset
                || count < 0 || count > cdSize / 46) {
            throw error("central directory (" + count + " entries, " + cdSize + " bytes at " + cdOffset
                    + ") does not fit the file — truncated or corrupt");
        }
        long p = cdOffset;
        for (long i = 0; i < count; i++) {
            p = readCentralEntry(p, cdOffset + cdSize);
        }
    }

    private long findEocd() {
        long size = seg.byteSize();
        long stop = Math.max(0, size - 22 - 0xFFFF);
        for (long p = size - 22; p >= stop; p--) {
            if (u32(p) == EOCD_SIG && p + 22 + u16(p + 20) == size) {
                return p;
            }
        }
        throw error("not a zip archive (no end-of-central-directory record)");
    }

    private long readCentralEntry(long p, long cdEnd) {
        need(p, 46, cdEnd, "central directory entry");
        if (u32(p) != CENTRAL_SIG) {
            throw error("bad central directory entry signature at byte " + p);
        }
        int flags = u16(p + 8);
        int method = u16(p + 10);
        long compressed = u32(p + 20);
        long size = u32(p + 24);
        int nameLen = u16(p + 28);
        int extraLen = u16(p + 30);
        int commentLen = u16(p + 32);
        long localOffset = u32(p + 42);
        need(p + 46, (long) nameLen + extraLen + commentLen, cdEnd, "central directory entry name");
        String name = new String(seg.asSlice(p + 46, nameLen).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        // ZIP64 extra: the u64 replacements, in this order, of the fields that were set to 0xFFFFFFFF.
        long x = p + 46 + nameLen;
        long xEnd = x + extraLen;
        while (x + 4 <= xEnd) {
            int id = u16(x);
            int len = u16(x + 2);
            need(x + 4, len, xEnd, "extra field of " + name);
            if (id == 0x0001) {
                long q = x + 4;
                if (size == U32_MAX) {
                    need(q, 8, x + 4 + len, "ZIP64 size of " + name);
                    size = u64(q);
                    q += 8;
                }
                if (compressed == U32_MAX) {
                    need(q, 8, x + 4 + len, "ZIP64 compressed size of " + name);
                    compressed = u64(q);
                    q += 8;
                }
                if (localOffset == U32_MAX) {
                    need(q, 8, x + 4 + len, "ZIP64 offset of " + name);
                    localOffset = u64(q);
                }
            }
            x += 4 + len;
        }
        if ((flags & 1) != 0) {
            throw error("entry " + name + " is encrypted");
        }
        if (method != 0) {
            throw error("entry " + name + " is compressed (method " + method + "); only stored entries are"
                    + " supported, as torch.save writes them");
        }
        if (compressed != size || size < 0 || localOffset < 0) {
            throw error("entry " + name + " has inconsistent sizes");
        }
        need(localOffset, 30, seg.byteSize(), "local header of " + name);
        if (u32(localOffset) != LOCAL_SIG) {
            throw error("bad local header signature for entry " + name);
        }
        long data = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28);
        need(data, size, seg.byteSize(), "data of entry " + name);
        entries.put(name, seg.asSlice(data, size));
        return p + 46 + nameLen + extraLen + commentLen;
    }

    /** Entry data by name, in central directory order. */
    Map<String, MemorySegment> entries() {
        return Collections.unmodifiableMap(entries);
    }

    private void need(long at, long n, long limit, String what) {
        if (at < 0 || n < 0 || at > limit || n > limit - at) {
            throw error(what + " (" + n + " bytes at " + at + ") runs past the end — truncated or corrupt zip");
        }
    }

    private int u16(long at) {
        need(at, 2, seg.byteSize(), "field");
        return seg.get(U16, at) & 0xFFFF;
    }

    private long u32(long at) {
        need(at, 4, seg.byteSize(), "field");
        return seg.get(U32, at) & U32_MAX;
    }

    private long u64(long at) {
        need(at, 8, seg.byteSize(), "field");
        return seg.get(U64, at);
    }

    private ModelFormatException error(String problem) {
        return new ModelFormatException(path + ": " + problem);
    }
}

package dev.nemotron4j.formats.pytorch;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Writes stored zip archives the way torch.save does: data 64-byte aligned by a padding extra field in the local header,
 * optionally in ZIP64 form (every size and offset in the central directory moved to the ZIP64 extra, ZIP64 EOCD and
 * locator), as a checkpoint over 4 GiB has it.
 */
final class ZipBuilder {
    private final Map<String, byte[]> entries = new LinkedHashMap<>();

    ZipBuilder add(String name, byte[] data) {
        entries.put(name, data);
        return this;
    }

    byte[] build(boolean zip64) {
        Le out = new Le();
        Le central = new Le();
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            byte[] data = e.getValue();
            CRC32 crc = new CRC32();
            crc.update(data);
            long offset = out.size();
            int pad = (int) ((64 - (offset + 30 + name.length + 4) % 64) % 64);
            out.u32(0x04034b50).u16(20).u16(0).u16(0).u16(0).u16(0).u32((int) crc.getValue())
                    .u32(data.length).u32(data.length).u16(name.length).u16(4 + pad).raw(name)
                    .u16(0x4246).u16(pad).raw(new byte[pad]).raw(data);
            int big = 0xFFFFFFFF;
            central.u32(0x02014b50).u16(20).u16(zip64 ? 45 : 20).u16(0).u16(0).u16(0).u16(0).u32((int) crc.getValue())
                    .u32(zip64 ? big : data.length).u32(zip64 ? big : data.length).u16(name.length)
                    .u16(zip64 ? 28 : 0).u16(0).u16(0).u16(0).u32(0).u32(zip64 ? big : (int) offset).raw(name);
            if (zip64) {
                central.u16(1).u16(24).u64(data.length).u64(data.length).u64(offset);
            }
        }
        long cdOffset = out.size();
        byte[] cd = central.toByteArray();
        out.raw(cd);
        if (zip64) {
            long z = out.size();
            out.u32(0x06064b50).u64(44).u16(45).u16(45).u32(0).u32(0).u64(entries.size()).u64(entries.size())
                    .u64(cd.length).u64(cdOffset);
            out.u32(0x07064b50).u32(0).u64(z).u32(1);
            out.u32(0x06054b50).u16(0).u16(0).u16(0xFFFF).u16(0xFFFF).u32(0xFFFFFFFF).u32(0xFFFFFFFF).u16(0);
        } else {
            out.u32(0x06054b50).u16(0).u16(0).u16(entries.size()).u16(entries.size()).u32(cd.length)
                    .u32((int) cdOffset).u16(0);
        }
        return out.toByteArray();
    }

    private static final class Le extends ByteArrayOutputStream {
        Le u16(int v) {
            write(v);
            write(v >>> 8);
            return this;
        }

        Le u32(int v) {
            return u16(v).u16(v >>> 16);
        }

        Le u64(long v) {
            return u32((int) v).u32((int) (v >>> 32));
        }

        Le raw(byte[] b) {
            write(b, 0, b.length);
            return this;
        }
    }
}

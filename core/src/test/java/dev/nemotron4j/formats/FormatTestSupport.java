package dev.nemotron4j.formats;

import org.junit.jupiter.api.function.Executable;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shared helpers of the format reader tests. */
public final class FormatTestSupport {
    private FormatTestSupport() {}

    /** The golden data folder, {@code <shared>/golden}. */
    public static Path golden() {
        String shared = System.getProperty("nemotron4j.shared", "../../shared");
        return Path.of(shared).resolve("golden");
    }

    /** Asserts {@code body} throws {@code type} with a message containing every one of {@code fragments}. */
    public static <T extends Throwable> T assertFails(Class<T> type, Executable body, String... fragments) {
        T e = assertThrows(type, body);
        for (String f : fragments) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(f),
                    () -> "message should mention '" + f + "': " + e.getMessage());
        }
        return e;
    }

    /** bf16 bits of {@code f}, rounded to nearest even as torch's {@code .to(torch.bfloat16)}. */
    public static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }
}

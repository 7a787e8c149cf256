package dev.nemotron4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Large off-heap buffers for weights made at load time. On Linux they are anonymous mappings advised to use huge
 * pages: the kernel hands out zeroed pages as they are first written (no separate zeroing pass over gigabytes), and
 * 2 MB pages spare the decode kernels a TLB miss every 4 KB of weights streamed. Elsewhere, plain arena memory.
 */
public final class NativeMemory {
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final int MADV_HUGEPAGE = 14;
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;
    private static final MethodHandle MADVISE;

    static {
        MethodHandle mmap = null;
        MethodHandle munmap = null;
        MethodHandle madvise = null;
        if (System.getProperty("os.name", "").startsWith("Linux")) {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            Optional<MemorySegment> m = libc.find("mmap");
            Optional<MemorySegment> u = libc.find("munmap");
            Optional<MemorySegment> a = libc.find("madvise");
            if (m.isPresent() && u.isPresent() && a.isPresent()) {
                mmap = linker.downcallHandle(m.get(), FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_LONG));
                munmap = linker.downcallHandle(u.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
                madvise = linker.downcallHandle(a.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
            }
        }
        MMAP = mmap;
        MUNMAP = munmap;
        MADVISE = madvise;
    }

    private NativeMemory() {
    }

    /** {@code bytes} of zeroed memory, 64-byte aligned at least, freed when {@code arena} closes. */
    public static MemorySegment allocate(Arena arena, long bytes) {
        if (MMAP == null || bytes == 0) {
            return arena.allocate(bytes, 64);
        }
        try {
            MemorySegment p = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, bytes, PROT_READ_WRITE,
                    MAP_PRIVATE_ANONYMOUS, -1, 0L);
            if (p.address() == -1L) {
                return arena.allocate(bytes, 64);
            }
            int ignored = (int) MADVISE.invokeExact(p, bytes, MADV_HUGEPAGE); // a hint: fine if refused
            return p.reinterpret(bytes, arena, NativeMemory::unmap);
        } catch (Throwable e) {
            throw new IllegalStateException("mmap of " + bytes + " bytes failed", e);
        }
    }

    private static void unmap(MemorySegment s) {
        try {
            int ignored = (int) MUNMAP.invokeExact(s, s.byteSize());
        } catch (Throwable e) {
            throw new IllegalStateException("munmap failed", e);
        }
    }
}

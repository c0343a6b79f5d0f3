package dev.buddy.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/** Reads {@code clGet*Info} values: strings (NUL-terminated), {@code cl_uint}, {@code size_t} and {@code cl_ulong}. */
final class ClInfo {
    private ClInfo() {}

    static String platformString(MemorySegment platform, int param) {
        return string(ClApi.GET_PLATFORM_INFO, "clGetPlatformInfo", platform, param);
    }

    static String deviceString(MemorySegment device, int param) {
        return string(ClApi.GET_DEVICE_INFO, "clGetDeviceInfo", device, param);
    }

    static int deviceInt(MemorySegment device, int param) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            query(ClApi.GET_DEVICE_INFO, "clGetDeviceInfo", device, param, JAVA_INT.byteSize(), v, MemorySegment.NULL);
            return v.get(JAVA_INT, 0);
        }
    }

    /** A {@code size_t} or {@code cl_ulong} (both 64-bit here) device property. */
    static long deviceLong(MemorySegment device, int param) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_LONG);
            query(ClApi.GET_DEVICE_INFO, "clGetDeviceInfo", device, param, JAVA_LONG.byteSize(), v, MemorySegment.NULL);
            return v.get(JAVA_LONG, 0);
        }
    }

    private static String string(MethodHandle handle, String call, MemorySegment object, int param) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(ADDRESS.byteSize());
            query(handle, call, object, param, 0, MemorySegment.NULL, size);
            long n = size.get(JAVA_LONG, 0);
            if (n <= 0) {
                return "";
            }
            MemorySegment buf = arena.allocate(n);
            query(handle, call, object, param, n, buf, MemorySegment.NULL);
            return cString(buf);
        }
    }

    static String cString(MemorySegment buf) {
        long len = 0;
        while (len < buf.byteSize() && buf.get(JAVA_BYTE, len) != 0) {
            len++;
        }
        return new String(buf.asSlice(0, len).toArray(JAVA_BYTE), StandardCharsets.UTF_8).strip();
    }

    private static void query(MethodHandle handle, String call, MemorySegment object, int param, long size,
            MemorySegment value, MemorySegment sizeRet) {
        int status;
        try {
            status = (int) handle.invokeExact(object, param, size, value, sizeRet);
        } catch (Throwable t) {
            throw ClApi.rethrow(t);
        }
        ClApi.check(call, status, "for parameter 0x" + Integer.toHexString(param));
    }
}

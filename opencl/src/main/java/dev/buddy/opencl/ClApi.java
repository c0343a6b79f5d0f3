package dev.buddy.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Hand-written downcalls into the system's OpenCL ICD loader ({@code libOpenCL}). Only the functions Buddy needs are
 * bound. Every handle is a {@code static final} so that C2 can inline {@code invokeExact}; when the library is missing
 * the handles are {@code null} and {@link #loadFailure()} says why, so nothing here ever throws at class
 * initialisation.
 *
 * <p>Type mapping (LP64 and LLP64 alike, checked at start-up): {@code cl_int}/{@code cl_uint}/{@code cl_bool} and the
 * {@code *_info} enums are {@code int}; {@code size_t}, {@code cl_ulong} and the bitfields are {@code long}; handles
 * and pointers are addresses.
 */
final class ClApi {
    private ClApi() {}

    // Info and flag constants from cl.h.
    static final int PLATFORM_VERSION = 0x0901;
    static final int PLATFORM_NAME = 0x0902;
    static final int PLATFORM_VENDOR = 0x0903;
    static final long DEVICE_TYPE_ALL = 0xFFFFFFFFL;
    static final int DEVICE_TYPE = 0x1000;
    static final int DEVICE_MAX_COMPUTE_UNITS = 0x1002;
    static final int DEVICE_MAX_WORK_GROUP_SIZE = 0x1004;
    static final int DEVICE_MAX_CLOCK_FREQUENCY = 0x100C;
    static final int DEVICE_MAX_MEM_ALLOC_SIZE = 0x1010;
    static final int DEVICE_SINGLE_FP_CONFIG = 0x101B;
    static final long FP_CORRECTLY_ROUNDED_DIVIDE_SQRT = 1L << 7;
    static final int DEVICE_GLOBAL_MEM_SIZE = 0x101F;
    static final int DEVICE_LOCAL_MEM_SIZE = 0x1023;
    static final int DEVICE_AVAILABLE = 0x1027;
    static final int DEVICE_COMPILER_AVAILABLE = 0x1028;
    static final int DEVICE_NAME = 0x102B;
    static final int DEVICE_VENDOR = 0x102C;
    static final int DRIVER_VERSION = 0x102D;
    static final int DEVICE_VERSION = 0x102F;
    static final int DEVICE_OPENCL_C_VERSION = 0x103D;
    static final long CONTEXT_PLATFORM = 0x1084;
    static final int PROGRAM_BUILD_LOG = 0x1183;
    static final int KERNEL_WORK_GROUP_SIZE = 0x11B0;
    static final long MEM_READ_WRITE = 1;
    static final long MEM_READ_ONLY = 4;
    static final long MEM_COPY_HOST_PTR = 32;
    static final int TRUE = 1;
    static final long QUEUE_PROPERTIES = 0x1093;
    static final long QUEUE_PROFILING_ENABLE = 1L << 1;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final String[] LIBRARY_NAMES = libraryNames();
    private static final StringBuilder FAILURE = new StringBuilder();
    private static final SymbolLookup LIB = openLibrary();

    private static final FunctionDescriptor RELEASE = FunctionDescriptor.of(JAVA_INT, ADDRESS);
    private static final FunctionDescriptor INFO = FunctionDescriptor.of(JAVA_INT,
            ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
    private static final FunctionDescriptor TRANSFER = FunctionDescriptor.of(JAVA_INT,
            ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);

    static final MethodHandle GET_PLATFORM_IDS = bind("clGetPlatformIDs",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle GET_PLATFORM_INFO = bind("clGetPlatformInfo", INFO);
    static final MethodHandle GET_DEVICE_IDS = bind("clGetDeviceIDs",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle GET_DEVICE_INFO = bind("clGetDeviceInfo", INFO);
    static final MethodHandle CREATE_CONTEXT = bind("clCreateContext",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle CREATE_COMMAND_QUEUE = bind("clCreateCommandQueue",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle CREATE_COMMAND_QUEUE_WITH_PROPERTIES = bindOptional(
            "clCreateCommandQueueWithProperties", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle CREATE_PROGRAM_WITH_SOURCE = bind("clCreateProgramWithSource",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle BUILD_PROGRAM = bind("clBuildProgram",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle GET_PROGRAM_BUILD_INFO = bind("clGetProgramBuildInfo",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    static final MethodHandle CREATE_KERNEL = bind("clCreateKernel",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle SET_KERNEL_ARG = bind("clSetKernelArg",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS));
    static final MethodHandle GET_KERNEL_WORK_GROUP_INFO = bind("clGetKernelWorkGroupInfo",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    static final MethodHandle CREATE_BUFFER = bind("clCreateBuffer",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS));
    static final MethodHandle ENQUEUE_WRITE_BUFFER = bind("clEnqueueWriteBuffer", TRANSFER);
    static final MethodHandle ENQUEUE_READ_BUFFER = bind("clEnqueueReadBuffer", TRANSFER);
    static final MethodHandle ENQUEUE_COPY_BUFFER = bind("clEnqueueCopyBuffer", FunctionDescriptor.of(JAVA_INT,
            ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle ENQUEUE_FILL_BUFFER = bind("clEnqueueFillBuffer", FunctionDescriptor.of(JAVA_INT,
            ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle ENQUEUE_ND_RANGE_KERNEL = bind("clEnqueueNDRangeKernel", FunctionDescriptor.of(JAVA_INT,
            ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle FINISH = bind("clFinish", RELEASE);
    static final MethodHandle FLUSH = bind("clFlush", RELEASE);
    static final MethodHandle RELEASE_MEM_OBJECT = bind("clReleaseMemObject", RELEASE);
    static final MethodHandle RELEASE_KERNEL = bind("clReleaseKernel", RELEASE);
    static final MethodHandle RELEASE_PROGRAM = bind("clReleaseProgram", RELEASE);
    static final MethodHandle RELEASE_COMMAND_QUEUE = bind("clReleaseCommandQueue", RELEASE);
    static final MethodHandle RELEASE_CONTEXT = bind("clReleaseContext", RELEASE);
    static final MethodHandle GET_EVENT_PROFILING_INFO = bind("clGetEventProfilingInfo", INFO);
    static final MethodHandle RELEASE_EVENT = bind("clReleaseEvent", RELEASE);

    /** Why the library could not be used, or empty when every required function was found. */
    static Optional<String> loadFailure() {
        synchronized (FAILURE) {
            return FAILURE.isEmpty() ? Optional.empty() : Optional.of(FAILURE.toString());
        }
    }

    private static String[] libraryNames() {
        String override = System.getProperty("buddy.opencl.library", System.getenv("BUDDY_OPENCL_LIBRARY"));
        if (override != null && !override.isBlank()) {
            return new String[] {override};
        }
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (os.contains("mac")) {
            return new String[] {"/System/Library/Frameworks/OpenCL.framework/OpenCL"};
        }
        if (os.contains("win")) {
            return new String[] {"OpenCL.dll"};
        }
        // The ICD loader's soname first: plain libOpenCL.so only exists where the -dev package is installed.
        return new String[] {"libOpenCL.so.1", "libOpenCL.so"};
    }

    // Restricted FFM calls are the point of this class; the jar manifest and launcher enable native access.
    @SuppressWarnings("restricted")
    private static SymbolLookup openLibrary() {
        if (ADDRESS.byteSize() != 8) {
            fail("a 64-bit JVM is needed (size_t is bound as a 64-bit integer)");
            return null;
        }
        List<String> errors = new ArrayList<>();
        for (String name : LIBRARY_NAMES) {
            try {
                return SymbolLookup.libraryLookup(name, Arena.global());
            } catch (IllegalArgumentException | IllegalCallerException e) {
                errors.add(name + (e instanceof IllegalCallerException ? " (" + e.getMessage() + ")" : ""));
            }
        }
        fail("no OpenCL library found (tried " + String.join(", ", errors)
                + "); install an OpenCL driver, e.g. pocl-opencl-icd, or set buddy.opencl.library");
        return null;
    }

    private static MethodHandle bind(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MethodHandle h = bindOptional(name, descriptor, options);
        if (h == null && LIB != null) {
            fail("the OpenCL library lacks " + name);
        }
        return h;
    }

    @SuppressWarnings("restricted")
    private static MethodHandle bindOptional(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        if (LIB == null) {
            return null;
        }
        return LIB.find(name).map(addr -> LINKER.downcallHandle(addr, descriptor, options)).orElse(null);
    }

    private static void fail(String reason) {
        synchronized (FAILURE) {
            if (FAILURE.isEmpty()) {
                FAILURE.append(reason);
            }
        }
    }

    /** Throws {@link OpenClException} for any status other than {@code CL_SUCCESS}. */
    static void check(String call, int status) {
        if (status != ClStatus.SUCCESS) {
            throw new OpenClException(call, status, null);
        }
    }

    static void check(String call, int status, String detail) {
        if (status != ClStatus.SUCCESS) {
            throw new OpenClException(call, status, detail);
        }
    }

    /** Rethrows what a downcall threw; downcalls throw only on linkage bugs, never for OpenCL errors. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    static int release(MethodHandle handle, MemorySegment object) {
        try {
            return (int) handle.invokeExact(object);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}

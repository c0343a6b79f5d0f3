package dev.buddy.opencl;

import java.lang.foreign.MemorySegment;

/**
 * One OpenCL device and what Buddy needs to know about it. The platform and device indices follow the driver's
 * enumeration order, which is what {@code --device P:D} selects.
 */
public final class ClDevice {
    private final MemorySegment platform;
    private final MemorySegment device;
    private final int platformIndex;
    private final int deviceIndex;
    private final String platformName;
    private final String platformVersion;
    private final String name;
    private final String vendor;
    private final long typeBits;
    private final long globalMemBytes;
    private final long localMemBytes;
    private final long maxAllocBytes;
    private final int computeUnits;
    private final long maxWorkGroupSize;
    private final String version;
    private final String driverVersion;
    private final boolean available;
    private final boolean compilerAvailable;
    private final boolean correctlyRoundedDivideSqrt;

    ClDevice(MemorySegment platform, MemorySegment device, int platformIndex, int deviceIndex, String platformName,
            String platformVersion) {
        this.platform = platform;
        this.device = device;
        this.platformIndex = platformIndex;
        this.deviceIndex = deviceIndex;
        this.platformName = platformName;
        this.platformVersion = platformVersion;
        this.name = ClInfo.deviceString(device, ClApi.DEVICE_NAME);
        this.vendor = ClInfo.deviceString(device, ClApi.DEVICE_VENDOR);
        this.typeBits = ClInfo.deviceLong(device, ClApi.DEVICE_TYPE);
        this.globalMemBytes = ClInfo.deviceLong(device, ClApi.DEVICE_GLOBAL_MEM_SIZE);
        this.localMemBytes = ClInfo.deviceLong(device, ClApi.DEVICE_LOCAL_MEM_SIZE);
        this.maxAllocBytes = ClInfo.deviceLong(device, ClApi.DEVICE_MAX_MEM_ALLOC_SIZE);
        this.computeUnits = ClInfo.deviceInt(device, ClApi.DEVICE_MAX_COMPUTE_UNITS);
        this.maxWorkGroupSize = ClInfo.deviceLong(device, ClApi.DEVICE_MAX_WORK_GROUP_SIZE);
        this.version = ClInfo.deviceString(device, ClApi.DEVICE_VERSION);
        this.driverVersion = ClInfo.deviceString(device, ClApi.DRIVER_VERSION);
        this.available = ClInfo.deviceInt(device, ClApi.DEVICE_AVAILABLE) != 0;
        this.compilerAvailable = ClInfo.deviceInt(device, ClApi.DEVICE_COMPILER_AVAILABLE) != 0;
        this.correctlyRoundedDivideSqrt = (ClInfo.deviceLong(device, ClApi.DEVICE_SINGLE_FP_CONFIG)
                & ClApi.FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
    }

    MemorySegment platformHandle() {
        return platform;
    }

    MemorySegment handle() {
        return device;
    }

    public int platformIndex() {
        return platformIndex;
    }

    public int deviceIndex() {
        return deviceIndex;
    }

    /** {@code P:D}, the form {@link OpenClDevices#select(String)} accepts. */
    public String id() {
        return platformIndex + ":" + deviceIndex;
    }

    public String platformName() {
        return platformName;
    }

    /** The platform's {@code CL_PLATFORM_VERSION}, e.g. "OpenCL 3.0 PoCL 3.1". */
    public String platformVersion() {
        return platformVersion;
    }

    public String name() {
        return name;
    }

    public String vendor() {
        return vendor;
    }

    /** "GPU", "CPU", "ACCELERATOR" or "CUSTOM" (the most specific bit set in {@code CL_DEVICE_TYPE}). */
    public String type() {
        if ((typeBits & 4) != 0) {
            return "GPU";
        }
        if ((typeBits & 8) != 0) {
            return "ACCELERATOR";
        }
        if ((typeBits & 2) != 0) {
            return "CPU";
        }
        return "CUSTOM";
    }

    public boolean isGpu() {
        return (typeBits & 4) != 0;
    }

    public long globalMemBytes() {
        return globalMemBytes;
    }

    public long localMemBytes() {
        return localMemBytes;
    }

    /** The largest single buffer the device allows ({@code CL_DEVICE_MAX_MEM_ALLOC_SIZE}). */
    public long maxAllocBytes() {
        return maxAllocBytes;
    }

    public int computeUnits() {
        return computeUnits;
    }

    public long maxWorkGroupSize() {
        return maxWorkGroupSize;
    }

    /** {@code CL_DEVICE_VERSION}, e.g. "OpenCL 3.0 CUDA". */
    public String version() {
        return version;
    }

    public String driverVersion() {
        return driverVersion;
    }

    /** True when the device is available and has a compiler (Buddy builds its kernels from source). */
    public boolean usable() {
        return available && compilerAvailable;
    }

    /**
     * Whether float division and sqrt can be built correctly rounded ({@code CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT}), which
     * the exact input conversions need to divide as the CPU does.
     */
    public boolean correctlyRoundedDivideSqrt() {
        return correctlyRoundedDivideSqrt;
    }

    /** The major version of the platform's OpenCL, from "OpenCL M.m ...". */
    int platformMajorVersion() {
        String[] parts = platformVersion.split(" ");
        if (parts.length > 1) {
            int dot = parts[1].indexOf('.');
            try {
                return Integer.parseInt(dot > 0 ? parts[1].substring(0, dot) : parts[1]);
            } catch (NumberFormatException e) {
                return 1;
            }
        }
        return 1;
    }

    @Override
    public String toString() {
        return id() + " " + name + " (" + type() + ", " + platformName + ")";
    }
}
